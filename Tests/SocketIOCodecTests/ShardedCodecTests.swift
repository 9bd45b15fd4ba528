import Foundation
import SocketIOCodec
import Testing

/// The sharded adapter's ClusterAdapter messages: the reference vectors and
/// what real stock sharded nodes published (`Fixtures/sharded-captured.jsonl`,
/// made by `node/capture-sharded.js` in the three subscription modes) decode
/// to the right kind, re-encode to the same bytes, and were published on the
/// channel the stock rule picks.
@Suite("Sharded codec")
struct ShardedCodecTests {
    static let captured: [JSObject] = {
        guard let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil),
            let data = FileManager.default.contents(atPath: folder.appendingPathComponent("sharded-captured.jsonl").path)
        else { return [] }
        return [UInt8](data).split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONParser().parse(Array($0)).objectValue
        }
    }()

    static let reference = VectorFixtures.reference.filter { $0.string("name")?.hasPrefix("sharded_") == true }

    @Test func fixturesAreThere() {
        #expect(Self.captured.count >= 60)
        #expect(Self.reference.count == 3)
        let types = Set(Self.captured.compactMap { try? ShardedMessage.decode(VectorFixtures.hex($0.string("hex")!)).type })
        // Everything a sharded node sends (heartbeats and ADAPTER_CLOSE are
        // ClusterAdapterWithHeartbeat's, not the sharded adapter's).
        #expect(types == Set(ShardedMessageType.allCases).subtracting([.initialHeartbeat, .heartbeat, .adapterClose]))
    }

    @Test(arguments: reference + captured)
    func roundTrips(_ vector: JSObject) throws {
        let payload = VectorFixtures.hex(vector.string("hex")!)
        let message = try ShardedMessage.decode(payload, flavor: .notepack2)
        #expect(message.layout == .current)
        #expect(message.encoding == PayloadEncoding.sniff(payload))
        #expect(VectorFixtures.hexString(try message.encode(flavor: .notepack2)) == vector.string("hex"))
        // Decoding what was encoded gives the same message.
        #expect(try ShardedMessage.decode(try message.encode()) == message)
    }

    @Test(arguments: captured)
    func publishedOnTheStockChannel(_ vector: JSObject) throws {
        let message = try ShardedMessage.decode(VectorFixtures.hex(vector.string("hex")!))
        let mode = try #require(ShardedChannels.Mode(rawValue: vector.string("mode") ?? ""))
        let channels = ShardedChannels(mode: mode)
        let channel = vector.string("channel")
        if message.isResponse {
            // Responses go to the requester's channel; its uid is in the request.
            #expect(channel?.hasPrefix(channels.main("/")) == true && channel?.utf8.count == channels.main("/").utf8.count + 17)
        } else {
            #expect(channels.channel(for: message, namespace: "/") == channel)
        }
    }

    @Test func capturedKindsAreRead() throws {
        func first(_ call: String, mode: String = "dynamic") throws -> ShardedMessage {
            let line = try #require(Self.captured.first { $0.string("call") == call && $0.string("mode") == mode })
            return try ShardedMessage.decode(VectorFixtures.hex(line.string("hex")!))
        }
        let room = try first(#"io.to("news").emit("headline", "x")"#)
        guard case .broadcast(let packet, nil, let options) = room.body else {
            Issue.record("BROADCAST expected")
            return
        }
        #expect(packet["nsp"] == nil && packet["data"] == .array([.string("headline"), .string("x")]))
        #expect(options == ShardedMessage.Options(rooms: [.name("news")]))
        #expect(room.uid?.utf8.count == 16 && room.namespace == "/")
        let numeric = try first(#"io.to(7).emit("n", 1)"#)
        guard case .broadcast(_, _, let numericOptions) = numeric.body else { return }
        #expect(numericOptions.rooms == [.number(7)])
        let join = try first(#"io.socketsJoin("room2")"#)
        #expect(join.body == .socketsJoin(options: ShardedMessage.Options(), rooms: [.name("room2")]))
        let disconnect = try first(#"io.in("nobody").disconnectSockets(true)"#)
        #expect(disconnect.body == .disconnectSockets(options: ShardedMessage.Options(rooms: [.name("nobody")]), close: true))
        let emit = try first(#"io.serverSideEmit("hello", 1, "two")"#)
        #expect(emit.body == .serverSideEmit(requestId: nil, packet: [.string("hello"), .number(1), .string("two")]))
        let acked = Self.captured.filter { $0.string("call") == #"io.timeout(1000).emit("ack-bin", 1, cb)"# && $0.string("mode") == "dynamic" }
            .compactMap { try? ShardedMessage.decode(VectorFixtures.hex($0.string("hex")!)) }
        #expect(acked.map(\.type) == [.broadcast, .broadcastClientCount, .broadcastAck])
        if case .broadcastAck(_, let argument)? = acked.last?.body {
            #expect(argument == .buffer([9, 8, 7]))
            #expect(acked.last?.encoding == .msgpack)
        } else {
            Issue.record("BROADCAST_ACK expected")
        }
    }

    /// Every type, both layouts: what is encoded decodes to the same message
    /// (8.2.x's `{uid, type, data}` keeps its key order).
    @Test(arguments: [ShardedMessage.Layout.current, .redisAdapter82])
    func everyTypeRoundTrips(_ layout: ShardedMessage.Layout) throws {
        let opts = ShardedMessage.Options(rooms: [.name("r"), .number(3)], except: [.name("x")], flags: JSObject([("volatile", .bool(true))]))
        let packet = JSObject([("type", .number(2)), ("data", .array([.string("ev"), .buffer([1])]))])
        let bodies: [ShardedMessage.Body] = [
            .initialHeartbeat, .heartbeat, .broadcast(packet: packet, requestId: nil, options: opts),
            .broadcast(packet: packet, requestId: "0123456789abcdef", options: opts),
            .socketsJoin(options: opts, rooms: [.name("a")]), .socketsLeave(options: opts, rooms: [.number(1)]),
            .disconnectSockets(options: ShardedMessage.Options(flags: nil), close: false),
            .fetchSockets(options: opts, requestId: "q"), .fetchSocketsResponse(requestId: "q", sockets: [.object(JSObject([("id", .string("s"))]))]),
            .serverSideEmit(requestId: nil, packet: [.string("e")]), .serverSideEmit(requestId: "q", packet: [.string("e"), .null]),
            .serverSideEmitResponse(requestId: "q", packet: .string("pong")), .broadcastClientCount(requestId: "q", clientCount: 4),
            .broadcastAck(requestId: "q", packet: .buffer([7])), .adapterClose,
        ]
        #expect(Set(bodies.map { ShardedMessage($0, uid: nil, namespace: nil).type }) == Set(ShardedMessageType.allCases))
        for body in bodies {
            let message = ShardedMessage(body, uid: "3f9c2a7be4d01856", namespace: layout == .current ? "/chat" : nil, layout: layout)
            let bytes = try message.encode()
            #expect(try ShardedMessage.decode(bytes) == message, "\(body)")
        }
        let legacy = ShardedMessage(.heartbeat, uid: "u", namespace: nil, layout: .redisAdapter82)
        #expect(String(decoding: try legacy.encode(), as: UTF8.self) == #"{"uid":"u","type":2}"#)
        let current = ShardedMessage(.heartbeat, uid: "u", namespace: "/", layout: .current)
        #expect(String(decoding: try current.encode(), as: UTF8.self) == #"{"type":2,"uid":"u","nsp":"/"}"#)
    }

    @Test func channelRule() {
        let message = { (rooms: [Room], requestId: String?) in
            ShardedMessage(.broadcast(packet: JSObject([("type", .number(2))]), requestId: requestId, options: ShardedMessage.Options(rooms: rooms)), uid: "u", namespace: "/")
        }
        let dynamic = ShardedChannels(mode: .dynamic)
        #expect(dynamic.channel(for: message([.name("news")], nil), namespace: "/") == "socket.io#/#news#")
        #expect(dynamic.channel(for: message([.number(42)], nil), namespace: "/") == "socket.io#/#42#")
        #expect(dynamic.channel(for: message([.name("XKd1jElcpznkiQzRAAAD")], nil), namespace: "/") == "socket.io#/#")
        // 20 UTF-16 units, fewer characters: still a socket id to the stock rule.
        #expect(dynamic.channel(for: message([.name(String(repeating: "é", count: 10) + String(repeating: "😀", count: 5))], nil), namespace: "/") == "socket.io#/#")
        #expect(dynamic.channel(for: message([.name("news")], "q"), namespace: "/") == "socket.io#/#")
        #expect(dynamic.channel(for: message([.name("a"), .name("b")], nil), namespace: "/") == "socket.io#/#")
        let priv = ShardedChannels(prefix: "p", mode: .dynamicPrivate)
        #expect(priv.channel(for: message([.name("XKd1jElcpznkiQzRAAAD")], nil), namespace: "/c") == "p#/c#XKd1jElcpznkiQzRAAAD#")
        #expect(ShardedChannels(mode: .static).channel(for: message([.name("news")], nil), namespace: "/") == "socket.io#/#")
        #expect(dynamic.subscribesRoom(isSocketId: false) && !dynamic.subscribesRoom(isSocketId: true))
        #expect(priv.subscribesRoom(isSocketId: true) && !ShardedChannels(mode: .static).subscribesRoom(isSocketId: false))
    }

    /// What a stock receiver could not act on is refused, with a CodecError.
    @Test(arguments: [
        "", "[]", "{}", #"{"type":14,"data":{}}"#, #"{"type":"3","data":{}}"#, #"{"type":3}"#,
        #"{"type":3,"data":{"opts":{}}}"#, #"{"type":3,"data":{"packet":{"type":"x"},"opts":{}}}"#,
        #"{"type":3,"data":{"packet":{"type":2},"opts":{"rooms":[{}]}}}"#, #"{"type":3,"data":{"packet":{"type":2},"opts":{"flags":1}}}"#,
        #"{"type":7,"data":{"opts":{}}}"#, #"{"type":8,"data":{"requestId":"q"}}"#, #"{"type":9,"data":{"packet":"x"}}"#,
        #"{"type":11,"data":{"requestId":"q","clientCount":-1}}"#, #"{"type":11,"data":{"requestId":"q","clientCount":1.5}}"#,
        #"{"type":4,"data":{"opts":{},"rooms":"r"}}"#, #"{"type":3,"uid":5,"data":{"packet":{"type":2},"opts":{}}}"#,
        #"{"type":12,"data":{"requestId":7}}"#, #"{"type":3,"data":{"packet":{"type":2},"opts":{}}"#,
    ])
    func malformedIsRefused(_ text: String) {
        #expect(throws: CodecError.self) { try ShardedMessage.decode(Array(text.utf8)) }
    }

    @Test func malformedMsgPackIsRefused() {
        for payload: [UInt8] in [[0x84], [0xc1], [0x81, 0xa4, 0x74, 0x79, 0x70, 0x65], [0x92, 0x01, 0x02]] {
            #expect(throws: CodecError.self) { try ShardedMessage.decode(payload) }
        }
    }
}
