import MsgPack
import Testing

/// The scanner checks short strings for ASCII with one eight-byte load that
/// reaches past (or, at the end of the payload, before) the string and masks
/// the other bytes off. A non-ASCII byte must be seen at every position, in
/// strings of every length, wherever the string sits in the payload; and a
/// neighbour's high bytes must never be blamed on an ASCII string.
@Suite("MsgPack scan of string bytes")
struct UTF8ScanTests {
    /// `[pad, str]`: pad is a string of `padding` ASCII bytes, so the tested
    /// string starts at varying offsets; a trailing 0xcc 0xff (uint 8: 255)
    /// when `trailer` puts high bytes right after it.
    static func payload(_ string: [UInt8], padding: Int, trailer: Bool) -> [UInt8] {
        var bytes: [UInt8] = [trailer ? 0x93 : 0x92, 0xa0 | UInt8(padding)]
        bytes += [UInt8](repeating: UInt8(ascii: "p"), count: padding)
        bytes += [0xd9, UInt8(string.count)] + string
        if trailer { bytes += [0xcc, 0xff] }
        return bytes
    }

    @Test(arguments: [false, true])
    func asciiStringsNextToHighBytes(_ trailer: Bool) throws {
        for length in 0...20 {
            for padding in 0...9 {
                let string = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
                let value = try MsgPackReader().decode(Self.payload(string, padding: padding, trailer: trailer))
                guard case .array(let items) = value else {
                    Issue.record("not an array")
                    return
                }
                #expect(items[1] == .string(String(decoding: string, as: UTF8.self)), "length \(length)")
            }
        }
    }

    @Test(arguments: [false, true])
    func aBadByteAnywhereIsFound(_ trailer: Bool) {
        for length in 1...20 {
            for position in 0..<length {
                for padding in [0, 3, 8] {
                    var string = [UInt8](repeating: UInt8(ascii: "x"), count: length)
                    string[position] = 0xff
                    let bytes = Self.payload(string, padding: padding, trailer: trailer)
                    let error = #expect(throws: MsgPackError.self) { _ = try MsgPackReader().decode(bytes) }
                    #expect(error?.code == .invalidUTF8, "length \(length), position \(position)")
                    #expect(error?.offset == 2 + padding + 2 + position, "length \(length), position \(position)")
                }
            }
        }
    }

    @Test
    func validMultiByteTextAtEveryPosition() throws {
        for length in 2...20 {
            for position in 0..<(length - 1) {
                var string = [UInt8](repeating: UInt8(ascii: "y"), count: length)
                string[position] = 0xc3  // é
                string[position + 1] = 0xa9
                let value = try MsgPackReader().decode([0xd9, UInt8(length)] + string)
                #expect(value == .string(String(decoding: string, as: UTF8.self)))
            }
        }
    }
}
