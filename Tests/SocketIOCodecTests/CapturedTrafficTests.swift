import MsgPack
import SocketIOCodec
import Testing

/// Real socket.io 4.8.1 / redis-adapter 8.3 / redis-emitter 5.1 traffic, with
/// the frame each client received: the codec must reproduce those frames.
@Suite("Captured cluster traffic")
struct CapturedTrafficTests {
    static let broadcasts = VectorFixtures.captured.filter {
        $0.string("message") == "broadcast packet [uid, packet, opts]"
    }
    static let framed = broadcasts.filter { $0["client_frame"] != nil }
    static let requestsAndResponses = VectorFixtures.captured.filter {
        $0.string("message")?.hasPrefix("request") == true || $0.string("message")?.hasPrefix("response") == true
    }

    @Test func fixturesAreThere() {
        #expect(VectorFixtures.captured.count >= 41)
        #expect(Self.framed.count >= 18)
        #expect(Self.requestsAndResponses.count >= 17)
    }

    @Test(arguments: framed)
    func reproducesTheClientFrame(_ capture: JSObject) throws {
        let payload = VectorFixtures.hex(capture.string("hex")!)
        let channel = try AdapterChannel(parsing: capture.string("channel")!)
        let message = try BroadcastMessage.decode(payload)
        let encoded = PacketEncoder().encode(message.socketIOPacket)
        let frame = "4" + encoded.string
        #expect(frame == capture.string("client_frame"), "\(capture.string("description") ?? "")")
        for client in capture["client_frames"]?.arrayValue ?? [] {
            #expect(client["frames"]?.arrayValue?.first?.stringValue == frame)
        }
        let expectedAttachments = (capture["client_frame_attachments"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(encoded.attachments.map(VectorFixtures.hexString) == expectedAttachments)
        // The message was published on the channel its rooms call for.
        #expect(message.channel(key: channel.key) == channel)
    }

    @Test(arguments: broadcasts)
    func broadcastDecodesToTheRecordedStructureAndBack(_ capture: JSObject) throws {
        let payload = VectorFixtures.hex(capture.string("hex")!)
        let message = try BroadcastMessage.decode(payload)
        let expected = VectorFixtures.expectedValue(capture["decoded"]!, flavor: .notepack3)
        #expect(message.jsValue == expected)
        #expect(try message.encode() == payload)
    }

    /// Adapter-published broadcasts, rebuilt from their typed fields in the
    /// layout @socket.io/redis-adapter 8.3 uses, come out byte for byte.
    @Test(arguments: broadcasts.filter { $0.string("producer")?.contains("redis-adapter") == true })
    func encodesAsRedisAdapter83(_ capture: JSObject) throws {
        let payload = VectorFixtures.hex(capture.string("hex")!)
        let decoded = try BroadcastMessage.decode(payload)
        let rebuilt = BroadcastMessage(
            uid: decoded.uid,
            type: decoded.packetType!,
            data: decoded.data!.arrayValue!,
            namespace: decoded.namespace,
            rooms: decoded.rooms,
            except: decoded.except ?? [],
            flags: decoded.flags
        )
        #expect(try rebuilt.encode() == payload)
    }

    @Test(arguments: requestsAndResponses)
    func requestsAndResponsesDecodeToTheRecordedStructure(_ capture: JSObject) throws {
        let payload = VectorFixtures.hex(capture.string("hex")!)
        let channel = try AdapterChannel(parsing: capture.string("channel")!)
        let expected = VectorFixtures.expectedValue(capture["decoded"]!, flavor: .notepack3)
        let format = capture.string("payload_format")
        #expect(PayloadEncoding.sniff(payload).rawValue == format)
        switch try AdapterMessage.decode(payload, channel: channel) {
        case .request(let request):
            #expect(capture.string("message")?.hasPrefix("request") == true)
            #expect(request.value == expected)
            #expect(capture.string("message") == "request \(request.typeName)")
            if format == "json" {
                #expect(JSONStringifier.string(request.value).map { Array($0.utf8) } == payload)
            } else {
                #expect(try Notepack.encode(request.value) == payload)
            }
        case .response(let response):
            #expect(capture.string("message")?.hasPrefix("response") == true)
            #expect(response.value == expected)
            if format == "json" {
                #expect(JSONStringifier.string(response.value).map { Array($0.utf8) } == payload)
            } else {
                #expect(try Notepack.encode(response.value) == payload)
            }
        default:
            Issue.record("not decoded as a request or response")
        }
    }

    /// Broadcast-with-ack requests: the receiving node encodes the packet and
    /// adds its own ack id; injecting that id reproduces the frame.
    @Test(arguments: requestsAndResponses.filter { $0["client_frame"] != nil })
    func ackBroadcastFrameIsTheEncodedPacketWithAnInjectedId(_ capture: JSObject) throws {
        let payload = VectorFixtures.hex(capture.string("hex")!)
        guard case .request(let request) = try AdapterMessage.decode(payload, channel: try AdapterChannel(parsing: capture.string("channel")!)),
            case .broadcast(let message) = request.kind
        else {
            Issue.record("not a BROADCAST request")
            return
        }
        let frame = capture.string("client_frame")!
        let encoded = PacketEncoder().encode(message.socketIOPacket)
        // The id the node chose is the digits after "42" (root namespace here).
        let id = UInt64(frame.dropFirst(2).prefix { $0.isNumber })!
        let injected = try AckIdInjector.inject(id, into: encoded.text)
        #expect("4" + String(decoding: injected, as: UTF8.self) == frame)
    }

    @Test(arguments: requestsAndResponses.filter { $0["client_frame_out"] != nil })
    func clientAckMatchesTheBroadcastAckResponse(_ capture: JSObject) throws {
        // The client's ACK frame "43[<nsp>,]<id>[arg]" carries the value the
        // node republished as BROADCAST_ACK.packet.
        let payload = VectorFixtures.hex(capture.string("hex")!)
        guard case .response(let response) = try AdapterMessage.decode(payload, channel: try AdapterChannel(parsing: capture.string("channel")!)),
            case .broadcastAck(let argument) = response.kind
        else {
            Issue.record("not a BROADCAST_ACK")
            return
        }
        let frame = capture.string("client_frame_out")!
        let json = frame.drop { $0 != "[" }
        #expect(try JSONParser().parse(Array(json.utf8)) == .array([argument]))
    }
}
