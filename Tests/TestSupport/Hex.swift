/// Hexadecimal for test data: captured payloads and expected frames are
/// written as hex strings.
public enum Hex {
    /// The bytes of `text`; anything that is not a hex digit (spaces,
    /// newlines) is skipped.
    public static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for ch in text.utf8 {
            let nibble: UInt8
            switch ch {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = ch - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = ch - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = ch - 55
            default: continue
            }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }

    /// Lowercase hex of `bytes`.
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
