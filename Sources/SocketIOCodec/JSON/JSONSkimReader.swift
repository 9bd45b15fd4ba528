import MsgPack

/// The byte-level reading of ``JSONSkim``: white space, member names,
/// literals, numbers and strings (escapes and UTF-8 checked), each from
/// `index`, which it leaves after what it read. Every function returns false
/// on what JSON does not allow, and reads nothing past `bytes`.
struct JSONSkimReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpace() {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 else { return }
            index += 1
        }
    }

    /// `"name"` then `:`; `found` tells whether the name is `wanted`.
    mutating func memberName(wanted: [UInt8]?, found: inout Bool) -> Bool {
        skipSpace()
        guard peek() == UInt8(ascii: "\"") else { return false }
        let start = index + 1
        guard string() else { return false }
        if let wanted {
            // An escaped name never matches: the keys busd looks for have no escapes.
            found =
                index - 1 - start == wanted.count
                && wanted.withUnsafeBufferPointer { w in
                    (0..<w.count).allSatisfy { bytes[start + $0] == w[$0] }
                }
        } else {
            found = false
        }
        skipSpace()
        guard peek() == UInt8(ascii: ":") else { return false }
        index += 1
        return true
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let base = word.utf8Start
        for i in 0..<count where bytes[index + i] != base[i] { return false }
        index += count
        return true
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() -> Bool {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { return false }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let d = peek(), isDigit(d) else { return false }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let d = peek(), isDigit(d) else { return false }
            skipDigits()
        }
        return true
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { index += 1 }
    }

    /// A string from its opening quote: escapes as JSON has them, no raw
    /// control characters, valid UTF-8.
    mutating func string() -> Bool {
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return true
            }
            if byte < 0x20 { return false }
            if byte == UInt8(ascii: "\\") {
                guard escape() else { return false }
                continue
            }
            if byte < 0x80 {
                index += 1
                continue
            }
            guard utf8Sequence() else { return false }
        }
        return false
    }

    private mutating func escape() -> Bool {
        index += 1
        guard let byte = peek() else { return false }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return true
        case UInt8(ascii: "u"):
            guard bytes.count - index >= 4 else { return false }
            for _ in 0..<4 {
                let h = bytes[index]
                guard isDigit(h) || (h | 0x20 >= UInt8(ascii: "a") && h | 0x20 <= UInt8(ascii: "f")) else {
                    return false
                }
                index += 1
            }
            return true
        default:
            return false
        }
    }

    /// One multi-byte UTF-8 sequence (no overlongs, no surrogates, ≤ U+10FFFF),
    /// by the same table as the parser's.
    private mutating func utf8Sequence() -> Bool {
        let at = index
        guard
            let length = UTF8Validation.sequenceLength(
                lead: bytes[at], available: bytes.count - at, byte: { bytes[at + $0] })
        else { return false }
        index += length
        return true
    }
}
