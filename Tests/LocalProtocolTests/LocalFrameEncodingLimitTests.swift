import LocalProtocol
import Testing

/// What the protocol cannot carry is refused with an error, never a trap,
/// and never written in part (issue 12: a 70,000-byte room name from Redis
/// trapped every busd with a matching socket).
@Suite("Local protocol encoding limits")
struct LocalFrameEncodingLimitTests {
    static let longRoom = String(repeating: "A", count: 70_000)

    static func deliver(packetBytes: Int, attachments: [[UInt8]] = []) -> LocalFrame {
        .deliver(
            ackId: 0,
            flags: DeliveryFlags(),
            namespace: "/",
            socketIds: ["AgUEon6wzXtHqqioAAAB"],
            packet: [UInt8](repeating: 0x32, count: packetBytes),
            attachments: attachments
        )
    }

    static let tooLong: [LocalFrame] = [
        .socketsJoin(namespace: "/", socketIds: ["a"], rooms: [longRoom]),
        .socketsLeave(namespace: "/", socketIds: [longRoom], rooms: []),
        .socketsDisconnect(namespace: longRoom, socketIds: [], close: false),
        .serverSideEmit(namespace: longRoom, data: []),
        .error(code: 1, message: longRoom),
        .socketJoin(namespace: "/", socketId: "a", rooms: ["ok", longRoom]),
        .roomsJoin(namespace: "/", socketId: "a", rooms: [.number(1), .name(longRoom)]),
        .deliverToRooms(
            ackId: 0,
            flags: DeliveryFlags(),
            namespace: "/",
            rooms: [],
            except: [.name(longRoom)],
            packet: [],
            attachments: []
        ),
        .apply(op: .join, namespace: "/", rooms: [], except: [], targets: [.name(longRoom)], close: false),
        .question(request: 1, kind: 1, namespace: longRoom, body: []),
        .delivered(ackId: 1, namespace: "/", socketIds: [longRoom]),
    ]

    static let nonFinite: [LocalFrame] = [Double.nan, .infinity, -.infinity, .signalingNaN].flatMap { n in
        [
            LocalFrame.roomsBroadcast(
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: [.name("a"), .number(n)],
                except: [],
                packet: [],
                attachments: []
            ),
            .deliverToRooms(
                ackId: 0,
                flags: DeliveryFlags(),
                namespace: "/",
                rooms: [],
                except: [.number(n)],
                packet: [],
                attachments: []
            ),
            .apply(op: .leave, namespace: "/", rooms: [], except: [], targets: [.number(n)], close: false),
        ]
    }

    /// The receiver would call a NaN or infinite room malformed: the
    /// encoder refuses it rather than write such a frame.
    @Test(arguments: nonFinite)
    func aNonFiniteRoomThrows(_ frame: LocalFrame) {
        var output: [UInt8] = [1, 2]
        let error = #expect(throws: LocalFrameEncodingError.self) { try frame.encode(into: &output) }
        #expect(error?.code == .nonFiniteNumber, "\(frame.name): \(String(describing: error))")
        #expect(output == [1, 2])
    }

    @Test func aVersion2FramePastTheLimitThrows() {
        let error = #expect(throws: LocalFrameEncodingError.self) {
            _ = try LocalFrame.deliverToRooms(
                ackId: 0,
                flags: DeliveryFlags(),
                namespace: "/",
                rooms: [],
                except: [],
                packet: [UInt8](repeating: 0x32, count: LocalFrame.maximumLength),
                attachments: []
            ).encoded
        }
        #expect(error?.code == .frameTooLarge)
    }

    @Test(arguments: tooLong)
    func aStringOver65535BytesThrows(_ frame: LocalFrame) {
        let error = #expect(throws: LocalFrameEncodingError.self) { _ = try frame.encoded }
        #expect(error?.code == .stringTooLong, "\(frame.name): \(String(describing: error))")
    }

    @Test func aStringOfExactly65535BytesIsFramed() throws {
        let room = String(repeating: "é", count: 65_535 / 2) + "A"  // 65535 UTF-8 bytes
        #expect(room.utf8.count == 65_535)
        let frame = LocalFrame.socketsJoin(namespace: "/", socketIds: ["a"], rooms: [room])
        var decoder = LocalFrameDecoder()
        decoder.append(try frame.encoded)
        #expect(try decoder.next() == frame)
    }

    @Test func theLargestFrameIsFramedAndOneByteMoreIsNot() throws {
        // DELIVER overhead: type 1, ack id 8, flags 1, namespace 2+1,
        // socket ids 4+2+20, packet length 4, attachment count 4 = 47.
        let largest = Self.deliver(packetBytes: LocalFrame.maximumLength - 47)
        let bytes = try largest.encoded
        #expect(bytes.count == LocalFrame.maximumLength + 4)
        var decoder = LocalFrameDecoder()
        decoder.append(bytes)
        #expect(try decoder.next() == largest)

        let error = #expect(throws: LocalFrameEncodingError.self) {
            _ = try Self.deliver(packetBytes: LocalFrame.maximumLength - 46).encoded
        }
        #expect(error?.code == .frameTooLarge)
    }

    @Test func attachmentsCountTowardsTheLimit() {
        let half = [UInt8](repeating: 1, count: LocalFrame.maximumLength / 2)
        let error = #expect(throws: LocalFrameEncodingError.self) {
            _ = try Self.deliver(packetBytes: 10, attachments: [half, half]).encoded
        }
        #expect(error?.code == .frameTooLarge)
    }

    @Test func aRefusedFrameLeavesTheOutputAsItWas() throws {
        var output: [UInt8] = []
        try LocalFrame.ping(token: 1).encode(into: &output)
        let before = output
        #expect(throws: LocalFrameEncodingError.self) { try Self.deliver(packetBytes: 17 << 20).encode(into: &output) }
        #expect(throws: LocalFrameEncodingError.self) {
            try LocalFrame.socketsJoin(namespace: "/", socketIds: ["a"], rooms: ["ok", Self.longRoom]).encode(
                into: &output
            )
        }
        #expect(output == before)
        try LocalFrame.pong(token: 2).encode(into: &output)
        var decoder = LocalFrameDecoder()
        decoder.append(output)
        #expect(try decoder.next() == .ping(token: 1))
        #expect(try decoder.next() == .pong(token: 2))
    }

    @Test func manyShortStringsPastTheLimitThrow() {
        let rooms = [String](repeating: "room-with-a-name", count: 1_100_000)  // ~19.8 MB framed
        let error = #expect(throws: LocalFrameEncodingError.self) {
            _ = try LocalFrame.socketsJoin(namespace: "/", socketIds: ["a"], rooms: rooms).encoded
        }
        #expect(error?.code == .frameTooLarge)
    }

    @Test func anErrorFrameForALongMessageIsCutToFit() throws {
        let error = LocalProtocolError(.malformedFrame, Self.longRoom)
        let bytes = try error.frame.encoded
        #expect(bytes.count < 1_100)
    }

    @Test func unusableContentKeepsTheConnection() {
        #expect(LocalProtocolError.Code.unusableContent.wireCode == 6)
        #expect(!LocalProtocolError.Code.unusableContent.closesConnection)
        #expect(LocalProtocolError.Code.malformedFrame.closesConnection)
        #expect(LocalProtocolError.Code.tooManyConnections.wireCode == 7)
        #expect(LocalProtocolError.Code.handshakeTimeout.wireCode == 8)
    }
}
