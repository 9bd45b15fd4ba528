import MsgPack
import Testing

@Suite("MsgPack writer")
struct MsgPackWriterTests {
    static let shortest: [(MsgPackValue, [UInt8])] = [
        (.uint(0), [0x00]),
        (.uint(127), [0x7f]),
        (.uint(128), [0xcc, 0x80]),
        (.uint(70000), [0xce, 0x00, 0x01, 0x11, 0x70]),
        (.int(-1), [0xff]),
        (.int(-32), [0xe0]),
        (.int(-33), [0xd0, 0xdf]),
        (.int(-200), [0xd1, 0xff, 0x38]),
        // msgpack-c writes non-negative signed values in the unsigned forms, as notepack does.
        (.int(200), [0xcc, 0xc8]),
        (.float64(1.5), [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
        (.string(String(repeating: "x", count: 31)), [0xbf] + [UInt8](repeating: 0x78, count: 31)),
        (.string(String(repeating: "x", count: 32)), [0xd9, 0x20] + [UInt8](repeating: 0x78, count: 32)),
        (.binary([1, 2]), [0xc4, 0x02, 0x01, 0x02]),
        (.ext(type: 5, data: [1, 2, 3, 4]), [0xd6, 0x05, 1, 2, 3, 4]),
        (.ext(type: 5, data: [1, 2, 3]), [0xc7, 0x03, 0x05, 1, 2, 3]),
        (.array([]), [0x90]),
        (.map([MsgPackMapEntry(.string("a"), .nil)]), [0x81, 0xa1, 0x61, 0xc0]),
    ]

    @Test(arguments: shortest)
    func writesTheShortestForm(_ value: MsgPackValue, _ expected: [UInt8]) throws {
        #expect(try MsgPackWriter.encode(value) == expected)
    }

    @Test func forcedExt8HeaderForFixextLengths() throws {
        let writer = MsgPackWriter()
        writer.packExtension(type: 0, data: [1, 2, 3, 4], forceExt8: true)
        #expect(try writer.bytes() == [0xc7, 0x04, 0x00, 1, 2, 3, 4])
        writer.reset()
        writer.packExtension(type: 0, data: [UInt8](repeating: 9, count: 300), forceExt8: true)
        #expect(try Array(writer.bytes().prefix(4)) == [0xc8, 0x01, 0x2c, 0x00])
    }

    @Test(arguments: [
        (Int64(960_854_400), UInt32(0), [UInt8]([0xd6, 0xff, 0x39, 0x45, 0x79, 0x80])),
        (Int64(960_854_400), UInt32(123_000_000), [0xd7, 0xff, 0x1d, 0x53, 0x53, 0x00, 0x39, 0x45, 0x79, 0x80]),
    ])
    func timestamps(_ seconds: Int64, _ nanoseconds: UInt32, _ expected: [UInt8]) throws {
        let writer = MsgPackWriter()
        writer.packTimestamp(seconds: seconds, nanoseconds: nanoseconds)
        #expect(try writer.bytes() == expected)
    }

    @Test func roundTripsThroughTheReader() throws {
        let value: MsgPackValue = .array([
            .string("héllo 👋"), .uint(UInt64.max), .int(Int64.min), .float64(-0.25), .binary([]),
            .map([MsgPackMapEntry(.string("k"), .array([.nil, .bool(true)]))]), .ext(type: 42, data: [0]),
        ])
        #expect(try MsgPackReader().decode(MsgPackWriter.encode(value)) == value)
    }
}
