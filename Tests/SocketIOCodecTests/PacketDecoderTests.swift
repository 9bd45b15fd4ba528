import SocketIOCodec
import Testing

@Suite("Packet decoder")
struct PacketDecoderTests {
    /// Decoding what the encoder wrote gives the packet back, for every
    /// captured broadcast (binary included).
    @Test func inverseOfTheEncoderOnCapturedTraffic() throws {
        for capture in CapturedTrafficTests.broadcasts {
            let message = try BroadcastMessage.decode(VectorFixtures.hex(capture.string("hex")!))
            var packet = message.socketIOPacket
            let encoded = PacketEncoder().encode(packet)
            let decoded = try PacketDecoder.decode(encoded.text, attachments: encoded.attachments)
            if !encoded.attachments.isEmpty { packet.type = 5 }  // the parser turned EVENT into BINARY_EVENT
            #expect(decoded == packet)
        }
    }

    @Test(arguments: [
        (#"2/admin,12["ev"]"#, 2, "/admin", 12.0 as Double?),
        ("0/admin,", 0, "/admin", nil),
        ("1", 1, "/", nil),
        (#"3/chat,0[{"client":"A"}]"#, 3, "/chat", 0.0),
    ])
    func headers(_ text: String, _ type: Int, _ nsp: String, _ id: Double?) throws {
        let packet = try PacketDecoder.decode(Array(text.utf8))
        #expect(packet.type == type && packet.namespace == nsp && packet.id == id)
    }

    @Test(arguments: ["", "9", #"51["a"]"#, #"51-["a",{"_placeholder":true,"num":3}]"#, #"2["a""#, #"52-["a"]"#])
    func refuses(_ text: String) {
        #expect(throws: CodecError.self) { _ = try PacketDecoder.decode(Array(text.utf8), attachments: text.hasPrefix("51-") ? [[1]] : []) }
    }
}
