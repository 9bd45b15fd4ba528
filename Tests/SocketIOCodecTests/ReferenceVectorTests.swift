import MsgPack
import SocketIOCodec
import Testing

/// The reference vectors for every adapter and emitter generation: each one
/// decodes to its recorded structure and re-encodes to the same bytes.
@Suite("Reference vectors")
struct ReferenceVectorTests {
    static let wire = VectorFixtures.reference.filter { $0.string("encoding") != "socket.io-packet-string" }
    static let packets = VectorFixtures.reference.filter { $0.string("encoding") == "socket.io-packet-string" }

    static func flavor(_ vector: JSObject) -> NotepackFlavor {
        vector.string("encoder")?.contains("2.") == true ? .notepack2 : .notepack3
    }

    @Test func fixturesAreThere() {
        #expect(Self.wire.count >= 39)
        #expect(Self.packets.count >= 9)
    }

    @Test(arguments: wire)
    func roundTrips(_ vector: JSObject) throws {
        let name = vector.string("name") ?? ""
        let payload = VectorFixtures.hex(vector.string("hex")!)
        let flavor = Self.flavor(vector)
        let channel = try AdapterChannel(parsing: vector.string("channel")!)
        let message = try AdapterMessage.decode(payload, channel: channel, flavor: flavor)
        let value: JSValue
        switch message {
        case .broadcast(let m): value = m.jsValue
        case .request(let m): value = m.value
        case .response(let m): value = m.value
        case .cluster(let m): value = m.value
        }
        #expect(value == VectorFixtures.expectedValue(vector["decoded"]!, flavor: flavor), "\(name)")
        if vector.string("encoding") == "json" {
            #expect(JSONStringifier.string(value) == vector.string("text"), "\(name)")
        } else {
            #expect(VectorFixtures.hexString(try Notepack.encode(value, flavor: flavor)) == vector.string("hex"), "\(name)")
        }
    }

    @Test(arguments: wire.filter { $0.string("channel")?.contains("-request#") == true })
    func requestKinds(_ vector: JSObject) throws {
        let payload = VectorFixtures.hex(vector.string("hex")!)
        guard case .request(let request) = try AdapterMessage.decode(payload, channel: try AdapterChannel(parsing: vector.string("channel")!)) else {
            Issue.record("not a request")
            return
        }
        switch vector.string("name") {
        case "v5_request_clients":
            #expect(request.generation == .legacy && request.requestId == "Xy12Ab")
            #expect(request.kind == .clients(rooms: [.name("room1")]))
        case "v8_request_fetch_sockets":
            #expect(request.kind == .remoteFetch(rooms: [.name("room1")], except: []))
        case "v8_request_all_rooms":
            #expect(request.kind == .allRooms && request.uid == "aB3dE5")
        case "v8_request_sockets_join":
            #expect(request.kind == .remoteJoin(.selector(rooms: [.name("Gx7kQ2mP9sL4vN1bR8tY")], except: []), rooms: [.name("vip")]))
            #expect(request.requestId == nil)
        case "v8_request_disconnect_sockets":
            #expect(request.kind == .remoteDisconnect(.selector(rooms: [.name("room1")], except: []), close: true))
        case "v8_request_server_side_emit_ack":
            #expect(request.kind == .serverSideEmit(data: [.string("hello"), .number(1)]) && request.requestId == "Lm4nO8")
        case "v8_request_broadcast_with_ack":
            guard case .broadcast(let message) = request.kind else {
                Issue.record("BROADCAST expected")
                return
            }
            #expect(request.encoding == .msgpack)
            #expect(message.flags["timeout"] == .number(5000))
            #expect(PacketEncoder().encode(message.socketIOPacket).string == #"2["ping"]"#)
        default:
            Issue.record("unchecked request vector \(vector.string("name") ?? "")")
        }
    }

    @Test(arguments: wire.filter { $0.string("channel")?.contains("-response#") == true })
    func responseKinds(_ vector: JSObject) throws {
        let payload = VectorFixtures.hex(vector.string("hex")!)
        guard case .response(let response) = try AdapterMessage.decode(payload, channel: try AdapterChannel(parsing: vector.string("channel")!)) else {
            Issue.record("not a response")
            return
        }
        switch vector.string("name") {
        case "v5_response_clients": #expect(response.kind == .clients(["Jc9xPq2LmZ0wE4rTAAAB"]))
        case "v8_response_fetch_sockets":
            guard case .fetchedSockets(let sockets) = response.kind else {
                Issue.record("REMOTE_FETCH reply expected")
                return
            }
            #expect(sockets.first?["id"] == .string("hT5-wq0_Ze3LmN8aKc2D"))
        case "v8_response_server_side_emit": #expect(response.kind == .serverSideEmit(.string("world")))
        case "v8_response_broadcast_client_count": #expect(response.kind == .broadcastClientCount(3))
        case "v8_response_broadcast_ack": #expect(response.kind == .broadcastAck(.string("pong")))
        default: Issue.record("unchecked response vector \(vector.string("name") ?? "")")
        }
    }

    @Test func shardedBroadcastCarriesItsPacket() throws {
        for vector in Self.wire where vector.string("name")?.hasPrefix("sharded_broadcast") == true {
            let payload = VectorFixtures.hex(vector.string("hex")!)
            guard case .cluster(let cluster) = try AdapterMessage.decode(payload, channel: try AdapterChannel(parsing: vector.string("channel")!)) else {
                Issue.record("cluster message expected")
                continue
            }
            #expect(cluster.typeName == "BROADCAST")
            #expect(cluster.broadcast?.namespace == "/")
        }
    }

    /// Packet strings: built from the recorded packet, each `$attachment`
    /// standing for a Buffer.
    @Test(arguments: packets)
    func packetStrings(_ vector: JSObject) throws {
        let decoded = vector["decoded"]!.objectValue!
        func data(_ value: JSValue) -> JSValue {
            switch value {
            case .object(let o) where o["$attachment"] != nil:
                return .buffer([UInt8(o["$attachment"]!.numberValue!), 0xff])
            case .array(let a): return .array(a.map(data))
            default: return value
            }
        }
        let type = Int(decoded["type"]!.numberValue!)
        let packet = SocketIOPacket(
            type: type,
            namespace: decoded.string("nsp") ?? "/",
            id: decoded["id"]?.numberValue,
            data: decoded["data"].map(data)
        )
        let text = vector.string("text")!
        // socket.io-parser 3.x takes the binary type as given.
        let v3 = PacketEncoder(parser: .v3).encode(packet)
        #expect(v3.string == text)
        // socket.io-parser 4.x derives it from the content.
        let v4 = PacketEncoder(parser: .v4, normalizesLegacyBinaryTypes: true).encode(packet)
        #expect(v4.string == text)
        #expect(v4.attachments.count == Int(decoded["attachments"]?.numberValue ?? 0))
    }
}
