import SocketIOCodec
import Testing

/// Every request and response type of every generation, decoded from the
/// JSON each version sends (key order as in the adapters' sources).
@Suite("Request and response kinds")
struct RequestKindTests {
    static let requests: [(String, RequestGeneration, RequestMessage.Kind)] = [
        // socket.io-redis 2.x-5.x
        (#"{"requestid":"a","type":0,"rooms":["r"]}"#, .legacy, .clients(rooms: [.name("r")])),
        (#"{"requestid":"a","type":1,"sid":"S"}"#, .legacy, .clientRooms(socket: "S")),
        (#"{"requestid":"a","type":2}"#, .legacy, .allRooms),
        (#"{"requestid":"a","type":3,"sid":"S","room":"r"}"#, .legacy, .remoteJoin(.socket("S"), rooms: [.name("r")])),
        (#"{"requestid":"a","type":4,"sid":"S","room":"r"}"#, .legacy, .remoteLeave(.socket("S"), rooms: [.name("r")])),
        (#"{"requestid":"a","type":5,"data":{"x":1}}"#, .legacy, .customRequest(data: .object(JSObject([("x", .number(1))])))),
        (#"{"requestid":"a","type":6,"sid":"S","close":true}"#, .legacy, .remoteDisconnect(.socket("S"), close: true)),
        // socket.io-redis 6.x, @socket.io/redis-adapter 7.x-8.x, emitters 4.x+
        (#"{"uid":"u","requestId":"a","type":0,"rooms":["r",7]}"#, .modern, .sockets(rooms: [.name("r"), .number(7)])),
        (#"{"uid":"u","requestId":"a","type":1}"#, .modern, .allRooms),
        (#"{"uid":"u","requestId":"a","type":2,"sid":"S","room":"r"}"#, .modern, .remoteJoin(.socket("S"), rooms: [.name("r")])),
        (#"{"uid":"u","type":2,"opts":{"rooms":["a"],"except":["b"]},"rooms":["r"]}"#, .modern, .remoteJoin(.selector(rooms: [.name("a")], except: [.name("b")]), rooms: [.name("r")])),
        (#"{"uid":"u","requestId":"a","type":3,"sid":"S","room":"r"}"#, .modern, .remoteLeave(.socket("S"), rooms: [.name("r")])),
        (#"{"type":3,"opts":{"rooms":[],"except":[]},"rooms":["r"]}"#, .modern, .remoteLeave(.selector(rooms: [], except: []), rooms: [.name("r")])),
        (#"{"uid":"u","requestId":"a","type":4,"sid":"S","close":false}"#, .modern, .remoteDisconnect(.socket("S"), close: false)),
        (#"{"type":4,"opts":{"rooms":["a"],"except":[]},"close":true}"#, .modern, .remoteDisconnect(.selector(rooms: [.name("a")], except: []), close: true)),
        (#"{"uid":"u","requestId":"a","type":5,"opts":{"rooms":["a"],"except":["b"]}}"#, .modern, .remoteFetch(rooms: [.name("a")], except: [.name("b")])),
        (#"{"uid":"u","type":6,"data":["ev",1]}"#, .modern, .serverSideEmit(data: [.string("ev"), .number(1)])),
        (#"{"uid":"u","requestId":"a","type":99}"#, .modern, .unknown(type: 99)),
    ]

    @Test(arguments: requests)
    func decodesRequest(_ json: String, _ generation: RequestGeneration, _ kind: RequestMessage.Kind) throws {
        guard case .request(let request) = try AdapterMessage.decode(Array(json.utf8), channel: .request(key: "socket.io", namespace: "/")) else {
            Issue.record("not a request")
            return
        }
        #expect(request.generation == generation)
        #expect(request.kind == kind)
        #expect(request.encoding == .json)
    }

    static let responses: [(String, ResponseMessage.Kind)] = [
        (#"{"requestid":"a","clients":["S1","S2"]}"#, .clients(["S1", "S2"])),
        (#"{"requestid":"a","rooms":["r1"]}"#, .rooms([.name("r1")])),
        (#"{"requestid":"a","data":{"k":"v"}}"#, .customData(.object(JSObject([("k", .string("v"))])))),
        (#"{"requestid":"a"}"#, .acknowledged),
        (#"{"requestId":"a","sockets":["S1"]}"#, .sockets(["S1"])),
        (#"{"requestId":"a","rooms":["S1","r",5]}"#, .rooms([.name("S1"), .name("r"), .number(5)])),
        (#"{"requestId":"a","sockets":[{"id":"S1","rooms":["S1"],"data":{}}]}"#, .fetchedSockets([.object(JSObject([("id", .string("S1")), ("rooms", .array([.string("S1")])), ("data", .object(JSObject()))]))])),
        (#"{"type":6,"requestId":"a","data":[1,2]}"#, .serverSideEmit(.array([.number(1), .number(2)]))),
        (#"{"type":8,"requestId":"a","clientCount":0}"#, .broadcastClientCount(0)),
    ]

    @Test(arguments: responses)
    func decodesResponse(_ json: String, _ kind: ResponseMessage.Kind) throws {
        guard case .response(let response) = try AdapterMessage.decode(Array(json.utf8), channel: .response(key: "socket.io", namespace: "/", uid: nil)) else {
            Issue.record("not a response")
            return
        }
        #expect(response.kind == kind)
        #expect(response.requestId == "a")
    }

    @Test func numericRoomsTravelAsNumbers() throws {
        // io.to(42).emit("n") -> rooms: [42] (msgpack int) on channel socket.io#/#42#
        let message = BroadcastMessage(uid: "aB3dE5", data: [.string("n")], namespace: "/", rooms: [.number(42)])
        let bytes = try message.encode()
        #expect(VectorFixtures.hexString(bytes).contains("a5726f6f6d73912a"))  // "rooms": [42]
        let decoded = try BroadcastMessage.decode(bytes)
        #expect(decoded.rooms == [.number(42)])
        #expect(decoded.channel().name == "socket.io#/#42#")
        var delivery = BroadcastDelivery()
        try BroadcastDecoder().decode(bytes, into: &delivery)
        #expect(delivery.rooms == [.number(42)])
        #expect(delivery.rooms[0].description == "42")
    }

    @Test func everyFlagIsReadAndKept() throws {
        // Flags of every generation, in the order the modifiers were called.
        let flags = JSObject([
            ("volatile", .bool(true)), ("compress", .bool(false)), ("broadcast", .bool(true)), ("json", .bool(true)),
            ("binary", .bool(false)), ("timeout", .number(5000)), ("expectSingleResponse", .bool(true)),
        ])
        let message = BroadcastMessage(uid: "u", data: [.string("e")], namespace: "/chat", flags: flags)
        let decoded = try BroadcastMessage.decode(try message.encode())
        #expect(decoded.flags == flags)
        #expect(decoded.isVolatile)
        #expect(decoded.compress == false)
        #expect(ProducerGuess(message: decoded, flavor: nil).producer.contains("6.0.x"))
    }
}
