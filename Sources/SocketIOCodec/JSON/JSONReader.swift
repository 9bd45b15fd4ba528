/// A cursor over JSON text for ``JSONParser``: whitespace, literals and
/// numbers here, strings in JSONReader+Strings.swift, containers in
/// JSONParser.swift.
///
/// Only lives inside `withUnsafeBufferPointer`, so it never escapes the bytes.
struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Reused for strings with escapes, to build them without reallocating.
    var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// JSON whitespace is only space, tab, LF and CR (not U+00A0, VT, FF, BOM).
    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// The error for the byte at `position` (the input length at its end).
    func failure(_ expected: String) -> CodecError {
        CodecError(.malformedJSON, offset: position, expected)
    }

    /// The error at `position`, worded for the end of input when it is there.
    func unexpected(_ what: String) -> CodecError {
        if position >= bytes.count { return failure("unexpected end of JSON input") }
        return failure(what)
    }

    /// Reads a string, number, true, false or null at `position`.
    mutating func readScalar() throws(CodecError) -> JSValue {
        switch bytes[position] {
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try readNumber())
        case UInt8(ascii: "t"):
            try readLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try readLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try readLiteral("null")
            return .null
        default:
            throw failure("unexpected token, expected a JSON value")
        }
    }

    /// Matches `word` byte by byte, failing at the first byte that differs.
    private mutating func readLiteral(_ word: StaticString) throws(CodecError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for byte in expected {
            guard position < bytes.count, bytes[position] == byte else {
                throw unexpected("unexpected token, expected '\(word)'")
            }
            position += 1
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, correctly rounded.
    private mutating func readNumber() throws(CodecError) -> Double {
        let start = position
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative {
            position += 1
            guard isDigit(at: position) else { throw unexpected("no number after minus sign") }
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if isDigit(at: position) { throw failure("unexpected number after leading zero") }
        } else {
            skipDigits()
        }
        let integerEnd = position
        var isIntegral = true
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            isIntegral = false
            position += 1
            guard isDigit(at: position) else { throw unexpected("unterminated fractional number") }
            skipDigits()
        }
        if position < bytes.count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
            isIntegral = false
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-"))
            {
                position += 1
            }
            guard isDigit(at: position) else { throw unexpected("exponent part is missing a number") }
            skipDigits()
        }

        let digitsStart = negative ? start + 1 : start
        if isIntegral && integerEnd - digitsStart <= 15 {
            // Exact in a double: no string conversion needed.
            var magnitude: Int64 = 0
            for index in digitsStart..<integerEnd { magnitude = magnitude * 10 + Int64(bytes[index] - 0x30) }
            return negative ? -Double(magnitude) : Double(magnitude)  // "-0" is -0, as in JavaScript
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text) else {
            position = start
            throw failure("number out of the parser's reach")
        }
        return value
    }

    private func isDigit(at index: Int) -> Bool {
        index < bytes.count && bytes[index] &- UInt8(ascii: "0") < 10
    }

    private mutating func skipDigits() {
        while isDigit(at: position) { position += 1 }
    }
}
