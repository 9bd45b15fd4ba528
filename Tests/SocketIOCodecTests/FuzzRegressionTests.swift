import MsgPack
import SocketIOCodec
import Testing

/// Inputs that stopped a fuzz target (Fuzz/, scripts/fuzz.sh); each is also
/// a seed in Fuzz/regressions/<target>/ (there with the target's selector byte).
@Suite("Fuzzer findings")
struct FuzzRegressionTests {
    /// A Date is at most 8.64e15 ms from the epoch in JavaScript; msgpack
    /// carries up to an int64 of ms (notepack 2) or of seconds (timestamp
    /// 96). Re-encoding such a decoded Date trapped in Int64(_:).
    static let outOfRangeDates: [(String, [UInt8])] = [
        // {"type":1,"x":<fixext 8 type 0, ms = Int64.max>}: fuzz input codec/date-int64-max-ms
        (
            "notepack 2 Date of Int64.max ms",
            [0x82, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x01, 0xa1, 0x78, 0xd7, 0x00] + [0x7f]
                + .init(repeating: 0xff, count: 7)
        ),
        // {"type":1,"x":<timestamp 96, seconds = Int64.max>}: fuzz input codec/timestamp96-int64-max-seconds
        (
            "timestamp of Int64.max seconds",
            [0x82, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x01, 0xa1, 0x78, 0xc7, 0x0c, 0xff, 0, 0, 0, 0] + [0x7f]
                + .init(repeating: 0xff, count: 7)
        ),
    ]

    @Test(arguments: outOfRangeDates, NotepackFlavor.allCases)
    func datesBeyondJavaScriptsRangeEncodeAsInvalidDates(_ vector: (String, [UInt8]), _ flavor: NotepackFlavor) throws {
        let (name, payload) = vector
        let decoded = try AdapterMessage.decodeValue(payload, encoding: .msgpack, flavor: .notepack3)
        guard case .date(let milliseconds)? = decoded["x"] else {
            Issue.record("\(name): no Date decoded")
            return
        }
        #expect(milliseconds.magnitude > 8.64e15)
        let encoded = try Notepack.encode(decoded, flavor: flavor)
        // As an invalid Date (NaN) is written: nil.
        #expect(encoded.suffix(3) == [0xa1, 0x78, 0xc0], "\(name), \(flavor): \(encoded)")
    }

    /// Found by fuzz-codec (after 2.7 million runs): a sharded-adapter message on
    /// a broadcast channel, `{type: 2, 97: <Date of 0x7e62b7006ea309df ms>, 0: {}}`,
    /// re-encoded under notepack 3 trapped computing the timestamp's
    /// nanoseconds (a negative double into UInt32).
    @Test func clusterMessageWithADateBeyondRangeReencodes() throws {
        let payload: [UInt8] = [
            0x83, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x02, 0x61, 0xd7, 0x00, 0x7e, 0x62, 0xb7, 0x00, 0x6e, 0xa3, 0x09, 0xdf,
            0x00, 0x80,
        ]
        let channel = try AdapterChannel(parsing: "socket.io#/#")
        guard case .cluster(let message) = try AdapterMessage.decode(payload, channel: channel) else {
            Issue.record("not decoded as a cluster message")
            return
        }
        let encoded = try Notepack.encode(message.value, flavor: .notepack3)
        // {"0": {}, "97": null, "type": 2}: index keys first, as in JavaScript.
        #expect(encoded == [0x83, 0xa1, 0x30, 0x80, 0xa2, 0x39, 0x37, 0xc0, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x02])
    }

    @Test(arguments: [9.3e18, -9.3e18, 8.64e15 + 1, -8.64e15 - 1, 1e300, .infinity], NotepackFlavor.allCases)
    func encodingADateOutOfRangeWritesNil(_ milliseconds: Double, _ flavor: NotepackFlavor) throws {
        #expect(try Notepack.encode(.date(milliseconds), flavor: flavor) == [0xc0])
    }

    /// The edges of the range stay Dates; a fractional time is a Date's whole
    /// ms (truncated, as JavaScript's TimeClip does), nanoseconds in 0..<1e9.
    @Test func datesAtTheEdgesStayDates() throws {
        #expect(
            try Notepack.encode(.date(8.64e15), flavor: .notepack2) == [
                0xd7, 0x00, 0x00, 0x1e, 0xb2, 0x08, 0xc2, 0xdc, 0x00, 0x00,
            ]
        )
        #expect(
            try Notepack.encode(.date(-8.64e15), flavor: .notepack2) == [
                0xd7, 0x00, 0xff, 0xe1, 0x4d, 0xf7, 0x3d, 0x24, 0x00, 0x00,
            ]
        )
        for milliseconds in [8.64e15, -8.64e15, -1, -0.5, -1001, 1e13 + 999.9999, -1e13 - 0.0001] {
            let encoded = try Notepack.encode(.date(milliseconds), flavor: .notepack3)
            let back = try AdapterMessage.decodeValue(encoded, encoding: .msgpack, flavor: .notepack3)
            guard case .date(let decoded) = back else {
                Issue.record("\(milliseconds) came back as \(back)")
                continue
            }
            #expect(decoded == milliseconds.rounded(.towardZero), "\(milliseconds)")
        }
    }
}
