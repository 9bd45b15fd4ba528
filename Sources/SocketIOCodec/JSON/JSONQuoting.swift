/// JSON string quoting exactly as `JSON.stringify` does it (QuoteJSONString),
/// on UTF-8 bytes that are already known to be valid.
///
/// Escaped: `"` and `\`, the five short escapes `\b \f \n \r \t`, and every
/// other code point below U+0020 as `\u00xx` in lowercase hex. Everything
/// else — U+007F, U+2028, U+2029, all non-ASCII — is written as is.
enum JSONQuoting {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendQuoted<Sink: ByteSink>(_ utf8: Span<UInt8>, to output: inout Sink) {
        // Through a raw buffer: indexing the span checks bounds on every
        // byte, which doubled the cost of quoting the short strings of an event.
        utf8.withUnsafeBufferPointer { appendQuoted($0, to: &output) }
    }

    /// The byte path's writer: a string with nothing to escape is written
    /// in one step (``ByteWriter/appendQuotedPlain(_:)``).
    @inline(__always)
    static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout ByteWriter) {
        if needsEscape(bytes) {
            appendEscaped(bytes, to: &output)
        } else {
            output.appendQuotedPlain(bytes)
        }
    }

    static func appendQuoted<Sink: ByteSink>(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout Sink) {
        output.append(UInt8(ascii: "\""))
        // Most strings (event names, keys, rooms) need no escape: one check
        // of eight bytes at a time, then one copy.
        if !needsEscape(bytes) {
            output.append(contentsOf: bytes)
            output.append(UInt8(ascii: "\""))
            return
        }
        appendEscapes(bytes, to: &output)
    }

    /// A string with something to escape, quotes included.
    @inline(never)
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout ByteWriter) {
        output.append(UInt8(ascii: "\""))
        appendEscapes(bytes, to: &output)
    }

    /// The string's bytes with every escape, and the closing quote.
    private static func appendEscapes<Sink: ByteSink>(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout Sink) {
        var runStart = 0
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                i += 1
                continue
            }
            if runStart < i { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            appendEscape(byte, to: &output)
            i += 1
            runStart = i
        }
        if runStart < bytes.count {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// True when some byte is below U+0020, a quote or a backslash. Eight bytes at a
    /// time: a word has a byte below n (n <= 128) exactly when
    /// `(w - n * 0x01..01) & ~w & 0x80..80` is not zero, and a byte equal to
    /// b when `w ^ (b * 0x01..01)` has a byte below 1.
    @inline(__always)
    static func needsEscape(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let count = bytes.count
        @inline(__always)
        func hasEscape(_ w: UInt64) -> Bool {
            let quote = w ^ (ones &* 0x22)
            let backslash = w ^ (ones &* 0x5c)
            let hits =
                ((w &- ones &* 0x20) & ~w) | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
            return hits & highs != 0
        }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while count &- i >= 8 {
            if hasEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return true }
            i &+= 8
        }
        if i == count { return false }
        // The rest in one word too, not byte by byte (most event names,
        // keys and rooms are shorter than eight bytes): the last eight
        // bytes, overlapping ones that passed, or under eight bytes the
        // bytes themselves with `A`s (no escape) in the lanes left over.
        if count >= 8 { return hasEscape(raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)) }
        var word: UInt64 = 0
        var shift: UInt64 = 0
        var offset = 0
        if count & 4 != 0 {
            word = UInt64(raw.loadUnaligned(as: UInt32.self))
            shift = 32
            offset = 4
        }
        if count & 2 != 0 {
            word |= UInt64(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) &<< shift
            shift &+= 16
            offset &+= 2
        }
        if count & 1 != 0 {
            word |= UInt64(raw.load(fromByteOffset: offset, as: UInt8.self)) &<< shift
            shift &+= 8
        }
        // shift is 8 * count, at most 56.
        return hasEscape(word | (ones &* 0x41) &<< shift)
    }

    private static func appendEscape<Sink: ByteSink>(_ byte: UInt8, to output: inout Sink) {
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
            output.append(UInt8(ascii: "u"))
            output.append(UInt8(ascii: "0"))
            output.append(UInt8(ascii: "0"))
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0f)])
        }
    }

    static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendQuoted($0.span, to: &output) }
    }
}
