import MsgPack

extension JSONReader {
    /// Reads a string literal; `position` is at the opening quote.
    ///
    /// Strings without escapes (the common case) are made straight from the
    /// input bytes; the bytes are checked as UTF-8 on the way, so a String is
    /// never built from ill-formed input.
    mutating func readString() throws(CodecError) -> String {
        position += 1
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let string = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            if byte < 0x20 { throw failure("bad control character in string literal") }
            position += byte < 0x80 ? 1 : try validatedSequenceLength()
        }
        throw failure("unterminated string")
    }

    /// Continues a string at its first backslash, collecting it in `scratch`.
    private mutating func readEscapedString(from start: Int) throws(CodecError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                position += 1
                try readEscape()
            } else if byte < 0x20 {
                throw failure("bad control character in string literal")
            } else if byte < 0x80 {
                scratch.append(byte)
                position += 1
            } else {
                let length = try validatedSequenceLength()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<position + length]))
                position += length
            }
        }
        throw failure("unterminated string")
    }

    /// Decodes the escape after a backslash (`position` is past the backslash).
    private mutating func readEscape() throws(CodecError) {
        guard position < bytes.count else { throw failure("unexpected end of JSON input") }
        let simple: UInt8
        switch bytes[position] {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            position += 1
            appendScalar(try readUnicodeEscape())
            return
        default:
            throw failure("bad escaped character")
        }
        scratch.append(simple)
        position += 1
    }

    /// Reads the 4 hex digits of a \u escape, pairing a high surrogate with a
    /// following \u low surrogate; any unpaired surrogate gives U+FFFD.
    private mutating func readUnicodeEscape() throws(CodecError) -> Unicode.Scalar {
        var unit: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count, let digit = hexValue(bytes[position]) else {
                throw failure("bad Unicode escape")
            }
            unit = unit << 4 | digit
            position += 1
        }
        if unit >= 0xD800 && unit < 0xDC00, let low = lowSurrogateEscape(at: position) {
            position += 6
            return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
        }
        return Unicode.Scalar(unit) ?? "\u{FFFD}"
    }

    /// The code unit of a `\uDC00`...`\uDFFF` escape at `index`, if there is one.
    private func lowSurrogateEscape(at index: Int) -> UInt32? {
        guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
        else { return nil }
        var unit: UInt32 = 0
        for offset in 2..<6 {
            guard let digit = hexValue(bytes[index + offset]) else { return nil }
            unit = unit << 4 | digit
        }
        return unit >= 0xDC00 && unit < 0xE000 ? unit : nil
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private mutating func appendScalar(_ scalar: Unicode.Scalar) {
        UTF8.encode(scalar) { scratch.append($0) }
    }

    /// The length of the well-formed UTF-8 sequence at `position` (whose
    /// first byte is >= 0x80), by Unicode's table of well-formed byte
    /// sequences: no overlong forms, surrogates or values above U+10FFFF.
    private func validatedSequenceLength() throws(CodecError) -> Int {
        let at = position
        let bytes = self.bytes
        guard let length = UTF8Validation.sequenceLength(lead: bytes[at], available: bytes.count - at, byte: { bytes[at + $0] })
        else { throw failure("invalid UTF-8") }
        return length
    }
}
