import Foundation
import SocketIOCodec
import Testing

/// Real socket.io 4.8.1 / redis-adapter 8.3.0 / redis-emitter 5.1.0 requests
/// and responses (`captured.jsonl`): from ../shared/vectors when it is next
/// to the repository, else the copy committed with the codec's fixtures.
enum Captured {
    static let lines: [JSObject] = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let shared = repository.deletingLastPathComponent().appendingPathComponent("shared/vectors/captured.jsonl")
        let committed = repository.appendingPathComponent("Tests/SocketIOCodecTests/Fixtures/captured.jsonl")
        let url = FileManager.default.fileExists(atPath: shared.path) ? shared : committed
        let bytes = [UInt8](FileManager.default.contents(atPath: url.path) ?? Data())
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONParser().parse(Array($0)).objectValue }
    }()

    /// Request and response captures with their label (`request REMOTE_FETCH`, ...).
    static func messages(_ prefix: String) -> [Capture] {
        lines.compactMap { line in
            guard let message = line["message"]?.stringValue, message.hasPrefix(prefix) else { return nil }
            return Capture(line)
        }
    }

    struct Capture: Sendable, CustomTestStringConvertible {
        var seq: Int
        var label: String
        var channel: String
        var payload: [UInt8]

        init?(_ line: JSObject) {
            guard let seq = line["seq"]?.numberValue, let label = line["message"]?.stringValue,
                let channel = line["channel"]?.stringValue, let hex = line["hex"]?.stringValue
            else { return nil }
            self.seq = Int(seq)
            self.label = label
            self.channel = channel
            self.payload = Captured.bytes(hex: hex)
        }

        var testDescription: String { "seq \(seq) \(label)" }
        var text: String { String(decoding: payload, as: UTF8.self) }
    }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(UInt8(nibble(high) << 4 | nibble(low)))
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        default: return c - 0x41 + 10
        }
    }
}
