import MsgPack
import SocketIOCodec
import Testing

/// Bad input is refused with an error that says what and where; nothing
/// crashes, hangs, or allocates in proportion to a lying length prefix.
@Suite("Malformed adapter messages")
struct MalformedInputTests {
    static let broadcastPayloads: [(String, [UInt8], CodecError.Code)] = [
        ("empty", [], .malformedMsgPack),
        ("not an array", [0x81, 0xa1, 0x61, 0x01], .unexpectedShape),
        ("array of 2", [0x92, 0xa1, 0x61, 0x80], .unexpectedShape),
        ("uid not a string", [0x93, 0x01, 0x80, 0x80], .unexpectedShape),
        ("packet not a map", [0x93, 0xa1, 0x61, 0x90, 0x80], .unexpectedShape),
        ("packet without type", [0x93, 0xa1, 0x61, 0x80, 0x80], .unexpectedShape),
        ("rooms not an array", [0x93, 0xa1, 0x61, 0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x02, 0x81, 0xa5, 0x72, 0x6f, 0x6f, 0x6d, 0x73, 0x01], .unexpectedShape),
        ("truncated", [0x93, 0xa6, 0x61, 0x42], .malformedMsgPack),
        ("huge array prefix", [0x93, 0xa1, 0x61, 0xdf, 0x7f, 0xff, 0xff, 0xff], .malformedMsgPack),
        ("huge string prefix", [0x93, 0xdb, 0xff, 0xff, 0xff, 0xf0, 0x61], .malformedMsgPack),
        ("non-UTF-8 uid", [0x93, 0xa2, 0xff, 0xfe, 0x80, 0x80], .malformedMsgPack),
        ("trailing bytes", [0x93, 0xa1, 0x61, 0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x02, 0x80, 0x00], .malformedMsgPack),
        ("JSON on a broadcast channel", Array(#"{"uid":"x"}"#.utf8), .malformedMsgPack),
        ("depth bomb", [0x93, 0xa1, 0x61, 0x81, 0xa4, 0x64, 0x61, 0x74, 0x61] + [UInt8](repeating: 0x91, count: 50_000) + [0x01], .malformedMsgPack),
        ("map with an array key", [0x93, 0xa1, 0x61, 0x81, 0x90, 0x01, 0x80], .unsupportedValue),
    ]

    @Test(arguments: broadcastPayloads)
    func broadcastsAreRefused(_ name: String, _ payload: [UInt8], _ code: CodecError.Code) {
        let error = #expect(throws: CodecError.self, "\(name)") { _ = try BroadcastMessage.decode(payload) }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
    }

    @Test func errorsNameTheByteOffset() {
        // The 0xc1 sits at byte 9 of the payload.
        let payload: [UInt8] = [0x93, 0xa1, 0x61, 0x81, 0xa4, 0x64, 0x61, 0x74, 0x61, 0xc1, 0x80]
        let error = #expect(throws: CodecError.self) { _ = try BroadcastMessage.decode(payload) }
        #expect(error?.offset == 9)
        #expect(error?.description.contains("byte 9") == true)
    }

    static let requestPayloads: [(String, String, CodecError.Code)] = [
        ("not JSON", "{uid}", .malformedJSON),
        ("truncated JSON", #"{"type":1"#, .malformedJSON),
        ("no type", #"{"uid":"x"}"#, .unexpectedShape),
        ("type not a number", #"{"type":"1"}"#, .unexpectedShape),
        ("join without rooms", #"{"type":2,"opts":{"rooms":["a"],"except":[]},"rooms":"vip"}"#, .unexpectedShape),
        ("legacy join without sid", #"{"requestid":"x","type":3,"room":"a"}"#, .unexpectedShape),
        ("server-side emit without data", #"{"type":6}"#, .unexpectedShape),
        // Only '{' means JSON; anything else goes to the msgpack decoder, as in the adapter.
        ("a JSON array", "[1,2]", .malformedMsgPack),
    ]

    @Test(arguments: requestPayloads)
    func requestsAreRefused(_ name: String, _ text: String, _ code: CodecError.Code) throws {
        let channel = try AdapterChannel(parsing: "socket.io-request#/#")
        let error = #expect(throws: CodecError.self, "\(name)") {
            _ = try AdapterMessage.decode(Array(text.utf8), channel: channel)
        }
        #expect(error?.code == code, "\(name)")
    }

    @Test func oneBadMessageDoesNotDisturbTheNext() throws {
        let reader = MsgPackReader()
        let good = VectorFixtures.hex(CapturedTrafficTests.broadcasts[0].string("hex")!)
        for bad in Self.broadcastPayloads.map(\.1) {
            _ = try? BroadcastMessage.decode(bad, reader: reader)
            #expect(try BroadcastMessage.decode(good, reader: reader).uid == "emitter")
        }
    }
}
