import Testing

@testable import LocalProtocol

/// DELIVER and DELIVER_TO_ROOMS have a one-pass writer of their own (the
/// frames busd writes per routed broadcast): it must write what the
/// field-by-field writer writes.
@Suite("DELIVER's one-pass writer")
struct DeliverFrameWriterTests {
    /// The frame as ``FrameWriter`` alone writes it.
    static func fieldByField(_ frame: LocalFrame) throws -> [UInt8] {
        var writer = FrameWriter(output: [0, 0, 0, 0], frameStart: 4)
        try writer.body(of: frame)
        var bytes = writer.output
        let length = UInt32(bytes.count - 4)
        bytes[0] = UInt8(length >> 24)
        bytes[1] = UInt8(length >> 16 & 0xff)
        bytes[2] = UInt8(length >> 8 & 0xff)
        bytes[3] = UInt8(length & 0xff)
        return bytes
    }

    @Test(arguments: [
        LocalFrame.deliver(
            ackId: 0,
            flags: DeliveryFlags(volatile: false, compress: nil),
            namespace: "/",
            socketIds: ["AgUEon6wzXtHqqioAAAB"],
            packet: Array(#"2["toRoom",{"room":"roomA"}]"#.utf8),
            attachments: []
        ),
        LocalFrame.deliver(
            ackId: 4_503_599_627_370_497,
            flags: DeliveryFlags(volatile: true, compress: false),
            namespace: "/chät",
            socketIds: ["a", "", String(repeating: "é", count: 300)],
            packet: Array(#"51-["bin",{"_placeholder":true,"num":0}]"#.utf8),
            attachments: [[0, 1, 2, 0xfe, 0xff], []]
        ),
        LocalFrame.deliverToRooms(
            ackId: 7,
            flags: DeliveryFlags(volatile: false, compress: true),
            namespace: "/chat",
            rooms: [.name("roomA"), .number(123), .name(""), .number(-0.5)],
            except: [.name("123")],
            packet: Array(#"2["toRoom",{"room":"roomA"}]"#.utf8),
            attachments: [[1, 2, 3]]
        ),
        LocalFrame.deliverToRooms(
            ackId: 0,
            flags: DeliveryFlags(volatile: true, compress: nil),
            namespace: "/",
            rooms: [],
            except: [],
            packet: [],
            attachments: []
        ),
        LocalFrame.deliver(
            ackId: .max,
            flags: DeliveryFlags(volatile: false, compress: true),
            namespace: "",
            socketIds: [],
            packet: [],
            attachments: []
        ),
    ])
    func writesWhatTheFieldWriterWrites(_ frame: LocalFrame) throws {
        var output: [UInt8] = [9, 9]  // appended after what is there
        try frame.encode(into: &output)
        #expect(output == [9, 9] + (try Self.fieldByField(frame)))
        var decoder = LocalFrameDecoder()
        decoder.append(Array(output.dropFirst(2)))
        #expect(try decoder.next() == frame)
    }
}
