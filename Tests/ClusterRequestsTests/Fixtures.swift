import ClusterRequests
import SocketIOCodec

/// A registry's read-only view over a fixed set of sockets (the in-memory adapter's rule).
struct FixedRegistry: ClusterRegistryView {
    var sockets: [(id: String, namespace: String, rooms: [Room])]

    func sockets(namespace: String, rooms: [Room], except: [Room]) -> [String] {
        sockets.filter { socket in
            socket.namespace == namespace
                && (rooms.isEmpty || rooms.contains { room in socket.rooms.contains(room) })
                && !except.contains { room in socket.rooms.contains(room) }
        }.map(\.id)
    }

    func rooms(namespace: String) -> [Room] {
        var seen: Set<Room> = []
        return sockets.filter { $0.namespace == namespace }.flatMap(\.rooms).filter { seen.insert($0).inserted }
    }

    func rooms(ofSocket id: String, namespace: String) -> [Room]? {
        sockets.first { $0.id == id && $0.namespace == namespace }?.rooms
    }

    /// S1 in room1 and room 123 (a number); S2 in "123" (a string); S3 in /chat.
    static let sample = FixedRegistry(sockets: [
        ("S1", "/", [.name("S1"), .name("room1"), .number(123)]),
        ("S2", "/", [.name("S2"), .name("123")]),
        ("S3", "/chat", [.name("S3"), .name("room1")]),
    ])
}

/// A request decoded as busd decodes what it reads from Redis.
func request(_ json: String, channel: String = "socket.io-request#/#") throws -> RequestMessage {
    guard
        case .request(let request) = try AdapterMessage.decode(
            Array(json.utf8),
            channel: AdapterChannel(parsing: channel)
        )
    else { throw Unexpected() }
    return request
}

func request(bytes: [UInt8]) throws -> RequestMessage {
    guard
        case .request(let request) = try AdapterMessage.decode(
            bytes,
            channel: AdapterChannel(parsing: "socket.io-request#/#")
        )
    else { throw Unexpected() }
    return request
}

struct Unexpected: Error {}

extension ClusterAction {
    /// The published text, for JSON payloads.
    var publishedText: String? {
        if case .publish(_, let payload) = self { return String(decoding: payload, as: UTF8.self) }
        return nil
    }

    var publishedChannel: String? {
        if case .publish(let channel, _) = self { return channel }
        return nil
    }
}

func texts(_ actions: [ClusterAction]) -> [String] { actions.compactMap(\.publishedText) }
