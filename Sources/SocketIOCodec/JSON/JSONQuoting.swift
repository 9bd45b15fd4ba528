/// JSON string quoting exactly as `JSON.stringify` does it (QuoteJSONString),
/// on UTF-8 bytes that are already known to be valid.
///
/// Escaped: `"` and `\`, the five short escapes `\b \f \n \r \t`, and every
/// other code point below U+0020 as `\u00xx` in lowercase hex. Everything
/// else — U+007F, U+2028, U+2029, all non-ASCII — is written as is.
enum JSONQuoting {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendQuoted(_ utf8: Span<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in utf8.indices {
            let byte = utf8[i]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < i { appendRun(utf8, runStart, i, to: &output) }
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0c: output.append(UInt8(ascii: "f"))
            case 0x0a: output.append(UInt8(ascii: "n"))
            case 0x0d: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            default:
                output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0f)])
            }
            runStart = i + 1
        }
        if runStart < utf8.count { appendRun(utf8, runStart, utf8.count, to: &output) }
        output.append(UInt8(ascii: "\""))
    }

    static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendQuoted($0.span, to: &output) }
    }

    private static func appendRun(_ utf8: Span<UInt8>, _ start: Int, _ end: Int, to output: inout [UInt8]) {
        utf8.withUnsafeBufferPointer { buffer in
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<end]))
        }
    }
}
