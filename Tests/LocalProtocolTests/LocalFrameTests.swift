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

    static func hex(_ bytes: [UInt8]) -> String { Hex.string(bytes) }
}

@Suite("Local protocol frames")
struct LocalFrameTests {
    @Test(arguments: ExampleFrames.all)
    func roundTrips(_ frame: LocalFrame) throws {
        var decoder = LocalFrameDecoder()
        decoder.append(try frame.encoded)
        #expect(try decoder.next() == frame)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func streamCutAtEveryByteGivesTheSameFrames() throws {
        var stream: [UInt8] = []
        for frame in ExampleFrames.all { try frame.encode(into: &stream) }
        for cut in [1, 2, 3, 5, 7, 64] {
            var decoder = LocalFrameDecoder()
            var frames: [LocalFrame] = []
            var offset = 0
            while offset < stream.count {
                decoder.append(stream[offset..<min(offset + cut, stream.count)])
                offset += cut
                while let frame = try decoder.next() { frames.append(frame) }
            }
            #expect(frames == ExampleFrames.all, "chunks of \(cut)")
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
    static let document: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/local-protocol.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// Hex dumps under "#### <NAME> example" headings.
    static func dump(for name: String) -> String? {
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
}
