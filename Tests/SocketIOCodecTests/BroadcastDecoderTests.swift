import SocketIOCodec
import Testing

/// The hot path must give exactly what the general decoder and encoder give.
@Suite("Broadcast fast path")
struct BroadcastDecoderTests {
    static var allBroadcastPayloads: [(String, [UInt8], NotepackFlavor)] {
        let captured = CapturedTrafficTests.broadcasts.map {
            ($0.string("description") ?? "", VectorFixtures.hex($0.string("hex")!), NotepackFlavor.notepack3)
        }
        let reference = ReferenceVectorTests.wire.filter { $0.string("hex")?.hasPrefix("93") == true }.map {
            ($0.string("name") ?? "", VectorFixtures.hex($0.string("hex")!), ReferenceVectorTests.flavor($0))
        }
        return captured + reference
    }

    /// Both fast paths: the byte path (tried first) and the tree path.
    @Test(arguments: allBroadcastPayloads, [true, false])
    func fastPathEqualsGeneralPath(_ vector: (String, [UInt8], NotepackFlavor), decodesBytes: Bool) throws {
        let (name, payload, flavor) = vector
        let decoder = BroadcastDecoder(flavor: flavor, decodesBytes: decodesBytes)
        var delivery = BroadcastDelivery()
        try decoder.decode(payload, into: &delivery)
        if !decodesBytes { #expect(!delivery.usedByteDecoder) }

        let message = try BroadcastMessage.decode(payload, flavor: flavor)
        let encoded = PacketEncoder(normalizesLegacyBinaryTypes: true).encode(message.socketIOPacket)
        #expect(delivery.packet == encoded.text, "\(name)")
        #expect(delivery.attachments == encoded.attachments, "\(name)")
        #expect(delivery.uid == message.uid)
        #expect(delivery.namespace == message.namespace)
        #expect(delivery.rooms == message.rooms)
        #expect(delivery.except == (message.except ?? []))
        #expect(delivery.isVolatile == message.isVolatile)
        #expect(delivery.compress == message.compress)
        #expect(delivery.existingAckId == message.ackId)
    }

    @Test func commonMessagesTakeTheFastPath() throws {
        let decoder = BroadcastDecoder()
        var delivery = BroadcastDelivery()
        var fast = 0
        for capture in CapturedTrafficTests.broadcasts {
            try decoder.decode(VectorFixtures.hex(capture.string("hex")!), into: &delivery)
            if delivery.usedByteDecoder { fast += 1 }
        }
        #expect(fast == CapturedTrafficTests.broadcasts.count)
    }

    /// Objects whose JavaScript key order differs from wire order, repeated
    /// keys and `__proto__` go the general way and still come out right.
    @Test func unusualKeysFallBackAndStayExact() throws {
        // ["u", {type: 2, data: ["e", {b: 1, "2": 2, "1": 3, b: 4, __proto__: 5}], nsp: "/"}, {rooms: [], except: [], flags: {}}]
        var object: [UInt8] = [0x85, 0xa1, 0x62, 0x01, 0xa1, 0x32, 0x02, 0xa1, 0x31, 0x03, 0xa1, 0x62, 0x04]
        object += [0xa9] + Array("__proto__".utf8) + [0x05]
        let payload: [UInt8] =
            [0x93, 0xa1, 0x75, 0x83, 0xa4] + Array("type".utf8) + [0x02, 0xa4] + Array("data".utf8) + [0x92, 0xa1, 0x65]
            + object + [0xa3] + Array("nsp".utf8) + [0xa1, 0x2f]
            + [0x83, 0xa5] + Array("rooms".utf8) + [0x90, 0xa6] + Array("except".utf8) + [0x90, 0xa5] + Array("flags".utf8) + [0x80]
        var delivery = BroadcastDelivery()
        try BroadcastDecoder().decode(payload, into: &delivery)
        #expect(delivery.usedGeneralPath)
        // What socket.io-parser 4 writes for that object after notepack decoded it.
        #expect(String(decoding: delivery.packet, as: UTF8.self) == #"2["e",{"1":3,"2":2,"b":4}]"#)
    }

    @Test func legacyBinaryTypeIsDeliveredReadably() throws {
        // emitter3_v2_binary: type 5 from a socket.io 2.x-era emitter.
        let payload = VectorFixtures.hex("93a7656d697474657283a47479706505a46461746192a3696d67c402deada36e7370a62f61646d696e82a5726f6f6d7390a5666c61677380")
        var delivery = BroadcastDelivery()
        try BroadcastDecoder().decode(payload, into: &delivery)
        #expect(String(decoding: delivery.packet, as: UTF8.self) == #"51-/admin,["img",{"_placeholder":true,"num":0}]"#)
        #expect(delivery.attachments == [[0xde, 0xad]])
    }

    @Test func malformedPayloadsAreRefusedByBothPaths() {
        let decoder = BroadcastDecoder()
        var delivery = BroadcastDelivery()
        for (_, payload, _) in MalformedInputTests.broadcastPayloads {
            #expect(throws: CodecError.self) { try decoder.decode(payload, into: &delivery) }
        }
    }
}
