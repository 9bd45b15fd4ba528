import Testing

@testable import SocketIOCodec

/// The word-at-a-time check for bytes to escape must agree with the byte
/// loop it stands in for, for every byte value at every place in a word
/// and in the tail after the whole words.
@Suite("JSON quoting")
struct JSONQuotingTests {
    static func naive(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    @Test func escapeCheckAgreesWithTheByteLoop() {
        for length in 0...19 {
            for position in 0..<max(length, 1) {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if length > 0 { bytes[position] = UInt8(value) }
                    let fast = bytes.withUnsafeBufferPointer { JSONQuoting.needsEscape($0) }
                    #expect(fast == Self.naive(bytes), "length \(length), byte \(value) at \(position)")
                }
            }
        }
        // Neighbours that borrow across bytes (0x00 next to 0x01, 0x80 next to 0x20).
        for pair: [UInt8] in [[0x01, 0x00], [0x20, 0x80], [0x21, 0x22], [0x5d, 0x5c], [0x80, 0x80], [0xff, 0x1f]] {
            // In a whole word, and in a short string padded inside the check.
            for padding in [6, 0, 1, 3, 5] {
                let bytes = pair + [UInt8](repeating: 0x41, count: padding)
                let fast = bytes.withUnsafeBufferPointer { JSONQuoting.needsEscape($0) }
                #expect(fast == Self.naive(bytes), "\(pair) + \(padding)")
            }
        }
    }

    @Test func quotedAsJSONStringifyQuotes() {
        var out: [UInt8] = []
        JSONQuoting.appendQuoted("plain words, é, 😀 and \u{7f}", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"plain words, é, 😀 and \u{7f}\"")
        out = []
        JSONQuoting.appendQuoted("a\"b\\c\n\u{1}\u{1f} long enough for a word", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\n\u0001\u001f long enough for a word""#)
    }
}
