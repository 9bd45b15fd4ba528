import ArgumentParser
import SocketIOCodec

#if canImport(Glibc)
    import Glibc
#endif

/// `busctl inspect`: decode one adapter message and show what a client gets.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode a Socket.IO Redis adapter message and show the packet a client would receive.",
        discussion: """
            The payload is read from --hex, or as raw bytes from standard input.
            Exit status: 0 decoded, 1 malformed payload (the error names the byte offset).
            """
    )

    @Option(name: .long, help: "The payload as hexadecimal (spaces and newlines allowed).")
    var hex: String?

    @Option(name: .long, help: "The Redis channel it was published on, e.g. 'socket.io#/#room1#'.")
    var channel: String?

    @Option(name: .long, help: "The adapter key (channel prefix); guessed from --channel when omitted.")
    var key: String?

    @Option(name: .customLong("ack-id"), help: "Also show the packet with this ack id injected.")
    var ackId: UInt64?

    @Option(name: .long, help: "Receiving node's parser: v4 (socket.io 3/4) or v3 (socket.io 2.x).")
    var parser: ParserChoice = .v4

    @Option(name: .long, help: "notepack dialect to decode with: auto, notepack2 or notepack3.")
    var flavor: FlavorChoice = .auto

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if let ackId, ackId > AckIdInjector.maximumId {
            throw ValidationError("--ack-id must be at most 2^53-1 (\(AckIdInjector.maximumId))")
        }
        // Here, not in run(): a ValidationError from run() gets busctl's
        // top-level usage instead of inspect's.
        if let hex { _ = try Hex.decode(hex) }
    }

    func run() throws {
        let payload: [UInt8]
        if let hex {
            payload = try Hex.decode(hex)
        } else {
            payload = readStandardInput()
        }
        do {
            let parsedChannel = try channel.map { name throws(CodecError) in try AdapterChannel(parsing: name, key: key)
            }
            let report = try InspectReport(
                payload: payload,
                channel: parsedChannel,
                flavor: flavor.flavor,
                parser: parser.parser,
                ackId: ackId
            )
            print(json ? report.json() : report.text(), terminator: json ? "\n" : "")
        } catch {
            printError("busctl inspect: \(error)")
            throw ExitCode(1)
        }
    }

    private func readStandardInput() -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}

enum FlavorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, notepack2, notepack3

    var flavor: NotepackFlavor? {
        switch self {
        case .auto: return nil
        case .notepack2: return .notepack2
        case .notepack3: return .notepack3
        }
    }
}

enum ParserChoice: String, ExpressibleByArgument, CaseIterable {
    case v4, v3

    var parser: PacketEncoder.Parser { self == .v4 ? .v4 : .v3 }
}

func printError(_ message: String) {
    var line = Array((message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

enum Hex {
    static func decode(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var high: UInt8?
        for (index, ch) in text.utf8.enumerated() {
            let nibble: UInt8
            switch ch {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = ch - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = ch - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = ch - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"): continue
            default:
                let shown = ch >= 0x21 && ch < 0x7f ? " ('\(Character(Unicode.Scalar(ch)))')" : ""
                throw ValidationError("--hex: character \(index + 1)\(shown) is not a hex digit (0-9, a-f)")
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        if high != nil { throw ValidationError("--hex: odd number of hex digits") }
        return bytes
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
