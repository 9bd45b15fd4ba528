import Testing

@testable import SocketIOCodec

/// The decoder's cache of uid, namespace and room Strings must give back
/// exactly the String of the bytes asked for, whatever was cached before:
/// values of every length (the key packing changes at 4, 8, 16, 24 and 32
/// bytes), values that differ in one byte only, and more values than slots.
@Suite("String cache")
struct StringCacheTests {
    static func lookUp(_ cache: StringCache, _ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { cache.string($0) }
    }

    @Test
    func everyLengthAndEveryOneByteDifference() {
        let cache = StringCache()
        for length in 0...40 {
            let base = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            var variants = [base]
            for position in 0..<length {
                var changed = base
                changed[position] = UInt8(ascii: "Z")
                variants.append(changed)
            }
            // Twice: the second round reads what the first stored.
            for _ in 0..<2 {
                for bytes in variants {
                    #expect(Self.lookUp(cache, bytes) == String(decoding: bytes, as: UTF8.self))
                }
            }
        }
    }

    @Test
    func moreValuesThanSlotsAndNonASCII() {
        let cache = StringCache()
        let values = (0..<(StringCache.slotCount * 3)).map { "room-\($0)-é" }
        for round in 0..<3 {
            for (index, value) in values.enumerated() where (index + round) % 2 == 0 {
                #expect(Self.lookUp(cache, Array(value.utf8)) == value)
            }
        }
    }
}
