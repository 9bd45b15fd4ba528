import Foundation
import LocalProtocol
import Testing
import TestSupport

/// One example of every frame type: the same frames whose hex dumps
/// docs/local-protocol.md shows (the documentation test holds them equal).
enum ExampleFrames {
    static let all: [LocalFrame] = [
        .hello(version: 1, node: "web-1", pid: 4242),
        .welcome(version: 1, uid: "osO7f9", nodeId: "web-1", ackIdBase: 1 << 52, ackTimeoutMilliseconds: 30_000),
        .error(code: 1, message: "bad frame"),
        .ping(token: 7),
        .pong(token: 7),
        .socketConnect(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", connectedAt: 1_795_237_379_219),
        .socketDisconnect(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", reason: "transport close"),
        .socketJoin(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", rooms: ["roomA"]),
        .socketLeave(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", rooms: ["roomA"]),
        .broadcast(
            namespace: "/",
            flags: DeliveryFlags(volatile: true),
            rooms: ["roomA"],
            except: [],
            packet: Array(#"2["news",1]"#.utf8),
            attachments: []
        ),
        .deliver(
            ackId: 4_503_599_627_370_497,
            flags: DeliveryFlags(compress: false),
            namespace: "/",
            socketIds: ["AgUEon6wzXtHqqioAAAB"],
            packet: Array(#"51-4503599627370497["bin",{"_placeholder":true,"num":0}]"#.utf8),
            attachments: [[0x00, 0x01, 0x02, 0xfe, 0xff]]
        ),
        .acked(
            ackId: 4_503_599_627_370_497,
            socketId: "AgUEon6wzXtHqqioAAAB",
            status: .delivered,
            arguments: Array(#"["ok"]"#.utf8)
        ),
        .socketsJoin(namespace: "/", socketIds: ["AgUEon6wzXtHqqioAAAB"], rooms: ["joinedRemote"]),
        .socketsLeave(namespace: "/", socketIds: ["AgUEon6wzXtHqqioAAAB"], rooms: ["joinedRemote"]),
        .socketsDisconnect(namespace: "/", socketIds: ["AgUEon6wzXtHqqioAAAB"], close: true),
        .serverSideEmit(namespace: "/", data: Array(#"["hello",2]"#.utf8)),
    ]

    /// The frames version 2 adds, as docs/local-protocol-v2.md shows them.
    static let version2: [LocalFrame] = [
        .namespace("/chat"),
        .roomsJoin(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", rooms: [.name("roomA"), .number(123)]),
        .roomsLeave(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", rooms: [.number(123)]),
        .roomsBroadcast(
            namespace: "/",
            flags: DeliveryFlags(),
            rooms: [.number(123)],
            except: [.name("AgUEon6wzXtHqqioAAAC")],
            packet: Array(#"2["news",1]"#.utf8),
            attachments: []
        ),
        .delivered(ackId: 4_503_599_627_370_497, namespace: "/", socketIds: ["AgUEon6wzXtHqqioAAAB"]),
        .answer(request: 7, status: 0, body: Array(#"["pong"]"#.utf8)),
        .clusterRequest(
            request: 1,
            kind: 2,
            namespace: "/",
            timeoutMilliseconds: 5000,
            body: Array(#"{"rooms":["roomA"],"except":[]}"#.utf8)
        ),
        .broadcastWithAck(
            request: 2,
            namespace: "/",
            flags: DeliveryFlags(),
            rooms: [.name("roomA")],
            except: [],
            timeoutMilliseconds: 2000,
            packet: Array(#"27["x",1]"#.utf8),
            attachments: []
        ),
        .deliverToRooms(
            ackId: 4_503_599_627_370_497,
            flags: DeliveryFlags(),
            namespace: "/",
            rooms: [.name("roomA"), .number(123)],
            except: [.name("AgUEon6wzXtHqqioAAAB")],
            packet: Array(#"24503599627370497["x",1]"#.utf8),
            attachments: []
        ),
        .apply(op: .join, namespace: "/", rooms: [.name("roomA")], except: [], targets: [.name("vip")], close: false),
        .question(request: 3, kind: 1, namespace: "/", body: Array(#"{"rooms":["roomA"],"except":[]}"#.utf8)),
        .clusterReply(request: 1, status: 0, body: Array(#"{"count":3}"#.utf8)),
        .ackCount(request: 2, clientCount: 4),
        .ackArgument(request: 2, argument: Array(#""ok""#.utf8)),
    ]

    /// Less usual values of the version 2 fields (round trips only).
    static let version2Edges: [LocalFrame] = [
        .roomsJoin(namespace: "/", socketId: "a", rooms: []),
        .roomsJoin(
            namespace: "/",
            socketId: "a",
            rooms: [.number(-0.5), .number(1e300), .number(-Double.greatestFiniteMagnitude), .name(""), .name("123")]
        ),
        .roomsBroadcast(
            namespace: "/x",
            flags: DeliveryFlags(volatile: true, compress: true),
            rooms: [],
            except: [],
            packet: [],
            attachments: [[], [0xff]]
        ),
        .deliverToRooms(
            ackId: 0,
            flags: DeliveryFlags(compress: false),
            namespace: "/",
            rooms: [],
            except: [.number(0)],
            packet: Array("2[]".utf8),
            attachments: [[1, 2, 3]]
        ),
        .apply(op: .leave, namespace: "/", rooms: [], except: [.name("x")], targets: [.number(7)], close: false),
        .apply(op: .disconnect, namespace: "/", rooms: [.number(1)], except: [], targets: [], close: true),
        .delivered(ackId: 1, namespace: "/", socketIds: []),
        .answer(request: .max, status: 1, body: []),
        .clusterRequest(request: 0, kind: 1, namespace: "/", timeoutMilliseconds: .max, body: []),
        .clusterReply(request: 9, status: 2, body: Array(#"{"error":"x"}"#.utf8)),
        .question(request: 1, kind: 2, namespace: "/", body: Array(#"["ping"]"#.utf8)),
        .ackCount(request: .max, clientCount: 0),
        .ackArgument(request: 0, argument: []),
    ]

    static func hex(_ bytes: [UInt8]) -> String { Hex.string(bytes) }
}

@Suite("Local protocol frames")
struct LocalFrameTests {
    @Test(arguments: ExampleFrames.all + ExampleFrames.version2 + ExampleFrames.version2Edges)
    func roundTrips(_ frame: LocalFrame) throws {
        var decoder = LocalFrameDecoder()
        decoder.append(try frame.encoded)
        #expect(try decoder.next() == frame)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func streamCutAtEveryByteGivesTheSameFrames() throws {
        var stream: [UInt8] = []
        let all = ExampleFrames.all + ExampleFrames.version2
        for frame in all { try frame.encode(into: &stream) }
        for cut in [1, 2, 3, 5, 7, 64] {
            var decoder = LocalFrameDecoder()
            var frames: [LocalFrame] = []
            var offset = 0
            while offset < stream.count {
                decoder.append(stream[offset..<min(offset + cut, stream.count)])
                offset += cut
                while let frame = try decoder.next() { frames.append(frame) }
            }
            #expect(frames == all, "chunks of \(cut)")
        }
    }

    @Test func fixedLayoutOfTheHotFrames() throws {
        // DELIVER: length, 0x20, ack id u64, flags, nsp, socket ids, packet, attachments.
        let deliver = LocalFrame.deliver(
            ackId: 258,
            flags: DeliveryFlags(volatile: true, compress: true),
            namespace: "/",
            socketIds: ["A"],
            packet: [0x32],
            attachments: []
        )
        #expect(
            try deliver.encoded == [
                0, 0, 0, 29, 0x20, 0, 0, 0, 0, 0, 0, 1, 2, 0x07, 0, 1, 0x2f, 0, 0, 0, 1, 0, 1, 0x41, 0, 0, 0, 1, 0x32,
                0, 0, 0, 0,
            ]
        )
        // ACKED: length, 0x21, ack id u64, socket id, status, arguments.
        let acked = LocalFrame.acked(ackId: 1, socketId: "A", status: .timeout, arguments: [])
        #expect(try acked.encoded == [0, 0, 0, 17, 0x21, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0x41, 2, 0, 0, 0, 0])
    }

    static let malformed: [(String, [UInt8], LocalProtocolError.Code)] = [
        ("zero length", [0, 0, 0, 0], .frameTooLarge),
        ("17 MiB length", [0x01, 0x10, 0, 0, 0x01], .frameTooLarge),
        ("unknown type", [0, 0, 0, 1, 0x7e], .malformedFrame),
        ("truncated body", [0, 0, 0, 3, 0x04, 0, 0], .malformedFrame),
        ("bytes left over", [0, 0, 0, 10, 0x04, 0, 0, 0, 0, 0, 0, 0, 7, 9], .malformedFrame),
        ("string longer than the frame", [0, 0, 0, 5, 0x03, 0, 1, 0x00, 0x09], .malformedFrame),
        ("invalid UTF-8", [0, 0, 0, 6, 0x03, 0, 1, 0, 1, 0xff], .malformedFrame),
        ("list count lie", [0, 0, 0, 13, 0x12, 0, 1, 0x2f, 0, 1, 0x41, 0xff, 0xff, 0xff, 0xff, 0, 0], .malformedFrame),
        ("bad ack status", [0, 0, 0, 17, 0x21, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0x41, 9, 0, 0, 0, 0], .malformedFrame),
    ]

    @Test(arguments: malformed)
    func malformedFramesAreRefused(_ name: String, _ bytes: [UInt8], _ code: LocalProtocolError.Code) {
        var decoder = LocalFrameDecoder()
        decoder.append(bytes)
        let error = #expect(throws: LocalProtocolError.self, "\(name)") { _ = try decoder.next() }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
        #expect(error?.frame.name == "ERROR")
    }

    /// `length type body` with the length counted.
    static func frame(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        let length = body.count + 1
        return [0, 0, UInt8(length >> 8), UInt8(length & 0xff), type] + body
    }

    static let nsAndSid: [UInt8] = [0, 1, 0x2f, 0, 1, 0x41]
    static let oneRoomCount: [UInt8] = [0, 0, 0, 1]

    static let malformedVersion2: [(String, [UInt8])] = [
        ("unknown type 0x1d", frame(0x1d, [])),
        ("unknown type 0x2c", frame(0x2c, [0, 0, 0, 1])),
        ("room tag 2", frame(0x16, nsAndSid + oneRoomCount + [0x02, 0, 1, 0x41])),
        ("room tag 0xff", frame(0x16, nsAndSid + oneRoomCount + [0xff, 0, 1, 0x41])),
        ("NaN room", frame(0x16, nsAndSid + oneRoomCount + [0x01, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])),
        ("infinite room", frame(0x17, nsAndSid + oneRoomCount + [0x01, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0])),
        ("-infinite room", frame(0x17, nsAndSid + oneRoomCount + [0x01, 0xff, 0xf0, 0, 0, 0, 0, 0, 0])),
        ("truncated number room", frame(0x16, nsAndSid + oneRoomCount + [0x01, 0x40, 0x5e, 0xc0, 0])),
        ("missing room tag", frame(0x16, nsAndSid + oneRoomCount)),
        ("room string overrun", frame(0x16, nsAndSid + oneRoomCount + [0x00, 0, 9, 0x41])),
        ("room invalid UTF-8", frame(0x16, nsAndSid + oneRoomCount + [0x00, 0, 1, 0xff])),
        ("room count lie", frame(0x16, nsAndSid + [0xff, 0xff, 0xff, 0xff, 0x00, 0, 1, 0x41])),
        ("room count one too many", frame(0x16, nsAndSid + [0, 0, 0, 2, 0x00, 0, 1, 0x41])),
        ("APPLY op 0", frame(0x27, [0, 0, 1, 0x2f] + [UInt8](repeating: 0, count: 12) + [0])),
        ("APPLY op 4", frame(0x27, [4, 0, 1, 0x2f] + [UInt8](repeating: 0, count: 12) + [0])),
        ("APPLY without close", frame(0x27, [1, 0, 1, 0x2f] + [UInt8](repeating: 0, count: 12))),
        ("NAMESPACE bytes left over", frame(0x15, [0, 1, 0x2f, 0])),
        ("NAMESPACE invalid UTF-8", frame(0x15, [0, 1, 0xc3])),
        ("ACK_COUNT bytes left over", frame(0x2a, [0, 0, 0, 1, 0, 0, 0, 2, 9])),
        ("ACK_COUNT truncated", frame(0x2a, [0, 0, 0, 1, 0, 0])),
        ("ANSWER body overrun", frame(0x1a, [0, 0, 0, 1, 0, 0, 0, 0, 9, 0x5b, 0x5d])),
        ("ACK_ARGUMENT body overrun", frame(0x2b, [0, 0, 0, 1, 0, 0, 0, 2, 0x22])),
        ("CLUSTER_REQUEST truncated", frame(0x1b, [0, 0, 0, 1, 2])),
        ("CLUSTER_REQUEST no time-out", frame(0x1b, [0, 0, 0, 1, 2, 0, 1, 0x2f])),
        ("QUESTION namespace overrun", frame(0x28, [0, 0, 0, 1, 1, 0, 5, 0x2f])),
        ("CLUSTER_REPLY bytes left over", frame(0x29, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0])),
        ("DELIVERED socket id count lie", frame(0x19, [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0x2f, 0x7f, 0, 0, 0])),
        (
            "DELIVER_TO_ROOMS attachments count lie",
            frame(
                0x26,
                [UInt8](repeating: 0, count: 9) + [0, 1, 0x2f] + [0, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 9]
            )
        ),
        (
            "ROOMS_BROADCAST except missing",
            frame(0x18, [0, 1, 0x2f, 0] + [0, 0, 0, 0])
        ),
        (
            "BROADCAST_WITH_ACK bad except tag",
            frame(0x1c, [0, 0, 0, 1, 0, 1, 0x2f, 0] + [0, 0, 0, 0] + oneRoomCount + [0x05, 0, 0, 0, 0, 0, 0, 0, 0])
        ),
    ]

    @Test(arguments: malformedVersion2)
    func malformedVersion2FramesAreRefused(_ name: String, _ bytes: [UInt8]) {
        var decoder = LocalFrameDecoder()
        decoder.append(bytes)
        let error = #expect(throws: LocalProtocolError.self, "\(name)") { _ = try decoder.next() }
        #expect(error?.code == .malformedFrame, "\(name): \(String(describing: error))")
    }

    @Test func aWellFormedVersion2FrameNextToTheMalformedOnesDecodes() throws {
        // The same bytes as "room tag 2" with tag 0: the table's frames fail for the reason named.
        var decoder = LocalFrameDecoder()
        decoder.append(Self.frame(0x16, Self.nsAndSid + Self.oneRoomCount + [0x00, 0, 1, 0x41]))
        #expect(try decoder.next() == .roomsJoin(namespace: "/", socketId: "A", rooms: [.name("A")]))
        decoder.append(Self.frame(0x16, Self.nsAndSid + Self.oneRoomCount + [0x01, 0x40, 0x5e, 0xc0, 0, 0, 0, 0, 0]))
        #expect(try decoder.next() == .roomsJoin(namespace: "/", socketId: "A", rooms: [.number(123)]))
        decoder.append(Self.frame(0x27, [3, 0, 1, 0x2f] + [UInt8](repeating: 0, count: 12) + [1]))
        #expect(
            try decoder.next()
                == .apply(op: .disconnect, namespace: "/", rooms: [], except: [], targets: [], close: true)
        )
    }

    @Test func framesKnowTheirVersion() {
        for frame in ExampleFrames.all { #expect(frame.minimumVersion == 1, "\(frame.name)") }
        for frame in ExampleFrames.version2 { #expect(frame.minimumVersion == 2, "\(frame.name)") }
        #expect(LocalFrame.version == 2)
        #expect(Set(ExampleFrames.version2.map(\.name)).count == 14)
    }

    @Test func aLyingLengthDoesNotMakeItWaitForever() throws {
        var decoder = LocalFrameDecoder()
        decoder.append([0, 0, 0, 100, 0x04])
        #expect(try decoder.next() == nil)  // waits for the rest, holding only what came
        #expect(decoder.bufferedCount == 5)
    }

    @Test func flagsByte() {
        for volatile in [false, true] {
            for compress in [nil, false, true] as [Bool?] {
                let flags = DeliveryFlags(volatile: volatile, compress: compress)
                #expect(DeliveryFlags(byte: flags.byte) == flags)
            }
        }
        #expect(DeliveryFlags(volatile: true, compress: false).byte == 0b011)
    }
}

/// docs/local-protocol.md shows a hex dump of every frame type; they must be
/// exactly what the encoder writes.
@Suite("Local protocol documentation")
struct LocalProtocolDocumentTests {
    static func read(_ file: String) -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/\(file)")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    static let document = read("local-protocol.md")
    /// The frames version 2 adds have their dumps in their own document.
    static let version2Document = read("local-protocol-v2.md")

    /// Hex dumps under "#### <NAME> example" headings.
    static func dump(for name: String, in document: String = document) -> String? {
        guard let heading = document.range(of: "#### \(name) example") else { return nil }
        let after = document[heading.upperBound...]
        guard let open = after.range(of: "```\n"), let close = after[open.upperBound...].range(of: "```") else {
            return nil
        }
        return after[open.upperBound..<close.lowerBound]
            .split(separator: "\n")
            .map { line in line.split(separator: " ").prefix { $0 != "|" }.dropFirst().joined() }
            .joined()
    }

    @Test func unusableContentErrorDumpMatchesTheEncoder() throws {
        let frame = LocalProtocolError(.unusableContent, "cannot decode BROADCAST").frame
        #expect(Self.dump(for: "ERROR unusable content") == ExampleFrames.hex(try frame.encoded))
    }

    @Test(arguments: ExampleFrames.all)
    func hexDumpMatchesTheEncoder(_ frame: LocalFrame) throws {
        let documented = Self.dump(for: frame.name)
        #expect(documented != nil, "docs/local-protocol.md has no example for \(frame.name)")
        #expect(documented == ExampleFrames.hex(try frame.encoded), "\(frame.name)")
    }

    /// CLUSTER_REQUEST kind 9 and its reply (docs/local-protocol-v2.md,
    /// "Waiting for a room's channel").
    @Test func roomsSubscribedDumpsMatchTheEncoder() throws {
        let request = LocalFrame.clusterRequest(
            request: 4,
            kind: 9,
            namespace: "/",
            timeoutMilliseconds: 5000,
            body: Array(#"{"rooms":["roomA",123]}"#.utf8)
        )
        let reply = LocalFrame.clusterReply(request: 4, status: 0, body: Array(#"{"waits":true}"#.utf8))
        let document = Self.version2Document
        let requestDump = Self.dump(for: "CLUSTER_REQUEST ROOMS_SUBSCRIBED", in: document)
        let replyDump = Self.dump(for: "CLUSTER_REPLY ROOMS_SUBSCRIBED", in: document)
        #expect(requestDump == ExampleFrames.hex(try request.encoded))
        #expect(replyDump == ExampleFrames.hex(try reply.encoded))
    }

    @Test(arguments: ExampleFrames.version2)
    func version2HexDumpMatchesTheEncoder(_ frame: LocalFrame) throws {
        let documented = Self.dump(for: frame.name, in: Self.version2Document)
        #expect(documented != nil, "docs/local-protocol-v2.md has no example for \(frame.name)")
        #expect(documented == ExampleFrames.hex(try frame.encoded), "\(frame.name)")
        #expect(Self.dump(for: frame.name) == nil, "\(frame.name) is a version 2 frame")
    }
}
