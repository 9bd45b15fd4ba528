import SocketIOCodec
import Testing

/// Ack ids are written eight digits at a time, then two at a time: every
/// boundary of those steps must print as Swift's own decimal does.
@Suite("Ack id digits")
struct AckIdDigitsTests {
    static let boundaries: [UInt64] = {
        var values: [UInt64] = [0, 1, 9, 4_503_599_627_370_496, AckIdInjector.maximumId]
        var power: UInt64 = 10
        while power <= 1_000_000_000_000_000 {
            values += [power - 1, power, power + 1, power * 5 + 7]
            power *= 10
        }
        return values
    }()

    @Test
    func everyBoundaryPrintsLikeSwift() throws {
        var output: [UInt8] = []
        for id in Self.boundaries + (0..<1000).map(UInt64.init) {
            try AckIdInjector.inject(id, into: Array(#"2["ev"]"#.utf8).span, output: &output)
            #expect(String(decoding: output, as: UTF8.self) == "2\(id)[\"ev\"]")
        }
    }

    @Test
    func aLongPacketIsSplicedToo() throws {
        // Above the stack buffer's 1 KiB: the copy goes straight to the array.
        let text = String(repeating: "z", count: 3000)
        let out = try AckIdInjector.inject(123_456_789, into: Array("2/chat,[\"\(text)\"]".utf8))
        #expect(String(decoding: out, as: UTF8.self) == "2/chat,123456789[\"\(text)\"]")
    }
}
