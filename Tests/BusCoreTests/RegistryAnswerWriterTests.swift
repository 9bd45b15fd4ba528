import BusCore
import SocketIOCodec
import Testing

/// The answers written in place from the registry (ALL_ROOMS from the
/// members' first slots, REMOTE_FETCH and SOCKETS from the columns) are the
/// bytes of the value encoders, through churn: slots reused, rooms joined
/// and left in every order, sockets in several namespaces, rooms that are
/// other sockets' ids, numeric rooms beside their text.
@Suite("Registry answers under churn")
struct RegistryAnswerWriterTests {
    /// A fixed sequence (xorshift), so a failure repeats.
    struct Steps {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
    }

    static let namespaces = ["/", "/chat", "/admin"]

    static func room(_ n: Int) -> Room {
        switch n % 4 {
        case 0: .number(Double(n % 9))
        case 1: .name(String(n % 9))
        case 2: .name("id-\(n % 13)")  // also a socket id below
        default: .name("room \"\(n % 7)\"\u{e9}")
        }
    }

    func expectWritersMatch(_ registry: SocketRegistry, step: Int) {
        for namespace in Self.namespaces {
            let written = ResponseEncoding.allRooms(requestId: "r") {
                registry.writeRooms(namespace: namespace, to: &$0)
            }
            let reference = ResponseEncoding.allRooms(requestId: "r", rooms: registry.allRooms(namespace: namespace))
            #expect(written == reference, "ALL_ROOMS of \(namespace) after step \(step)")
            for (rooms, except) in [
                ([Room](), [Room]()), ([Self.room(1), Self.room(4)], [Self.room(2)]), ([], [Self.room(0)]),
            ] {
                let sockets = ResponseEncoding.fetchedSockets(requestId: "f") {
                    registry.writeSockets(namespace: namespace, typedRooms: rooms, except: except, to: &$0)
                }
                let values = registry.select(namespace: namespace, typedRooms: rooms, except: except).map {
                    ResponseEncoding.registrySocket(
                        id: $0,
                        rooms: registry.rooms(ofSocket: $0, namespace: namespace) ?? []
                    )
                }
                #expect(
                    sockets == ResponseEncoding.fetchedSockets(requestId: "f", sockets: values),
                    "REMOTE_FETCH of \(namespace) after step \(step)"
                )
            }
        }
    }

    @Test func writersMatchTheValueEncodersThroughChurn() {
        var registry = SocketRegistry()
        var steps = Steps()
        for step in 0..<3000 {
            let id = "id-\(steps.next(13))"
            switch steps.next(6) {
            case 0: registry.connect(id, namespace: Self.namespaces[steps.next(3)], at: Int64(step))
            case 1: registry.disconnect(id)
            case 2, 3: registry.join(id, typedRooms: (0..<steps.next(4)).map { _ in Self.room(steps.next(40)) })
            default: registry.leave(id, typedRooms: (0..<steps.next(3)).map { _ in Self.room(steps.next(40)) })
            }
            if step % 25 == 0 { expectWritersMatch(registry, step: step) }
        }
        expectWritersMatch(registry, step: 3000)
    }

    @Test func aRoomIsListedAfterTheFirstSocketInItAsSocketIOListsIt() {
        var registry = SocketRegistry()
        for id in ["a", "b", "c"] { registry.connect(id, namespace: "/", at: 0) }
        registry.join("c", rooms: ["x", "y"])
        registry.join("b", rooms: ["y", "z"])
        registry.join("a", typedRooms: [.number(1), .name("1")])
        registry.disconnect("a")
        registry.connect("d", namespace: "/", at: 0)  // reuses a's slot: listed first
        registry.join("d", rooms: ["z"])
        let written = ResponseEncoding.allRooms(requestId: "r") { registry.writeRooms(namespace: "/", to: &$0) }
        #expect(String(decoding: written, as: UTF8.self) == #"{"requestId":"r","rooms":["d","z","b","y","c","x"]}"#)
    }
}
