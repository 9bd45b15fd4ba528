import SocketIOCodec
import Testing

@Suite("Ack id injection")
struct AckIdInjectorTests {
    static let injections: [(String, UInt64, String)] = [
        (#"2["ev"]"#, 7, #"27["ev"]"#),
        (#"2["ev",1]"#, 12, #"212["ev",1]"#),
        (#"2/chat,["ev"]"#, 7, #"2/chat,7["ev"]"#),
        (#"51-["ev",{"_placeholder":true,"num":0}]"#, 7, #"51-7["ev",{"_placeholder":true,"num":0}]"#),
        (#"51-/chat,["ev",{"_placeholder":true,"num":0}]"#, 7, #"51-/chat,7["ev",{"_placeholder":true,"num":0}]"#),
        (#"512-["a",{"_placeholder":true,"num":0}]"#, 0, #"512-0["a",{"_placeholder":true,"num":0}]"#),
        (#"2/a/b-c,[]"#, 9_007_199_254_740_991, #"2/a/b-c,9007199254740991[]"#),
        (#"2["x,/[1"]"#, 3, #"23["x,/[1"]"#),
    ]

    @Test(arguments: injections)
    func injects(_ packet: String, _ id: UInt64, _ expected: String) throws {
        let out = try AckIdInjector.inject(id, into: Array(packet.utf8))
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    static let existing: [(String, UInt64)] = [
        (#"212["foo"]"#, 12),
        (#"2/admin,12["ev"]"#, 12),
        (#"51-/admin,7["ev",{"_placeholder":true,"num":0}]"#, 7),
    ]

    @Test(arguments: existing)
    func leavesAnExistingIdAlone(_ packet: String, _ id: UInt64) throws {
        var output: [UInt8] = []
        let outcome = try AckIdInjector.inject(99, into: Array(packet.utf8).span, output: &output)
        #expect(outcome == .alreadyPresent(id))
        #expect(output == Array(packet.utf8))
    }

    static let refused: [(String, CodecError.Code, Int)] = [
        (#"3/admin,12["bar"]"#, .notAnEvent, 0),
        (#"61-15["bar",{"_placeholder":true,"num":0}]"#, .notAnEvent, 0),
        ("0/admin,", .notAnEvent, 0),
        (#"0{"sid":"x"}"#, .notAnEvent, 0),
        ("1", .notAnEvent, 0),
        (#"4{"message":"no"}"#, .notAnEvent, 0),
        ("", .invalidPacket, 0),
        ("2", .invalidPacket, 1),
        ("2/chat", .invalidPacket, 6),
        (#"2{"a":1}"#, .invalidPacket, 1),
        (#"5-["ev"]"#, .invalidPacket, 1),
        (#"51["ev"]"#, .invalidPacket, 2),
        (#"9["ev"]"#, .invalidPacket, 0),
        (#"2 ["ev"]"#, .invalidPacket, 1),
    ]

    @Test(arguments: refused)
    func refuses(_ packet: String, _ code: CodecError.Code, _ offset: Int) {
        let error = #expect(throws: CodecError.self) { _ = try AckIdInjector.inject(1, into: Array(packet.utf8)) }
        #expect(error?.code == code)
        #expect(error?.offset == offset)
    }

    @Test func refusesIdsJavaScriptCannotRead() {
        let error = #expect(throws: CodecError.self) { _ = try AckIdInjector.inject(1 << 53, into: Array(#"2["x"]"#.utf8)) }
        #expect(error?.code == .unsupportedValue)
    }

    /// Splicing into the encoded form equals encoding with the id, for every
    /// captured broadcast and several ids.
    @Test(arguments: [UInt64(0), 7, 4_503_599_627_370_496, AckIdInjector.maximumId])
    func spliceEqualsEncodingWithTheId(_ id: UInt64) throws {
        for capture in CapturedTrafficTests.broadcasts {
            let message = try BroadcastMessage.decode(VectorFixtures.hex(capture.string("hex")!))
            var packet = message.socketIOPacket
            let plain = PacketEncoder().encode(packet)
            packet.id = Double(id)
            let withId = PacketEncoder().encode(packet)
            #expect(try AckIdInjector.inject(id, into: plain.text) == withId.text)
            #expect(plain.attachments == withId.attachments)
        }
    }

    @Test func reusesTheOutputBuffer() throws {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        let packet = Array(#"2["a"]"#.utf8)
        try AckIdInjector.inject(5, into: packet.span, output: &output)
        #expect(output == Array(#"25["a"]"#.utf8))
        try AckIdInjector.inject(6, into: packet.span, output: &output)
        #expect(output == Array(#"26["a"]"#.utf8))
    }
}
