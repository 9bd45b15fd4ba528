/// Unicode's table of well-formed UTF-8 byte sequences (no overlong forms,
/// no surrogates, nothing above U+10FFFF), shared by the msgpack pre-scan
/// and the JSON reader.
public enum UTF8Validation {
    /// The length of the well-formed sequence that starts with `lead` (a byte
    /// >= 0x80), reading its continuation bytes through `byte(k)` for k = 1,
    /// 2, 3 while k < `available`; nil when the sequence is malformed or cut off.
    @inlinable
    public static func sequenceLength(lead: UInt8, available: Int, byte: (Int) -> UInt8) -> Int? {
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: return nil
        }
        guard length <= available else { return nil }
        let second = byte(1)
        guard second >= lower && second <= upper else { return nil }
        for k in 2..<length where byte(k) & 0xC0 != 0x80 { return nil }
        return length
    }
}
