internal import MsgPack

/// The Strings of recently seen short byte strings: uids, namespaces, rooms.
///
/// Every broadcast carries a uid and a namespace, most carry rooms, and the
/// same few values come back message after message. Making a String from
/// bytes (UTF-8 check, then the String itself) cost ~170 instructions each,
/// almost 3 per message; a hit here costs a few word loads, a hash and a
/// compare (~40 instructions), and the
/// String it returns shares its storage with earlier ones (no allocation for
/// the 16-byte and longer ones, such as socket ids used as rooms).
///
/// Direct-mapped: a value goes into one slot chosen by its hash and replaces
/// whatever was there, so the cache never grows and a miss costs only the
/// String it would have made anyway. Not thread-safe: one per decoder.
final class StringCache {
    static let slotCount = 256
    /// Longer values are not cached (they are rarely repeated uids or rooms).
    static let maximumLength = 32

    /// Length of the value in each slot; -1 when empty.
    private let lengths: UnsafeMutablePointer<Int>
    /// The value's bytes as `wordsPerKey` words (see ``words(_:_:)``).
    private let keys: UnsafeMutablePointer<UInt64>
    private let values: UnsafeMutablePointer<String>
    private static let wordsPerKey = maximumLength / 8
    private typealias Key = (UInt64, UInt64, UInt64, UInt64)

    init() {
        lengths = .allocate(capacity: Self.slotCount)
        lengths.initialize(repeating: -1, count: Self.slotCount)
        keys = .allocate(capacity: Self.slotCount * Self.wordsPerKey)
        keys.initialize(repeating: 0, count: Self.slotCount * Self.wordsPerKey)
        values = .allocate(capacity: Self.slotCount)
        values.initialize(repeating: "", count: Self.slotCount)
    }

    deinit {
        lengths.deallocate()
        keys.deallocate()
        values.deinitialize(count: Self.slotCount)
        values.deallocate()
    }

    /// The String of `utf8`, which must be valid UTF-8 (the msgpack scan
    /// has checked every `str`).
    func string(_ utf8: UnsafeBufferPointer<UInt8>) -> String {
        let count = utf8.count
        guard count > 0, count <= Self.maximumLength, let bytes = utf8.baseAddress else {
            return String(decoding: utf8, as: UTF8.self)
        }
        let raw = UnsafeRawPointer(bytes)
        var key: Key = (0, 0, 0, 0)
        Self.words(raw, count, into: &key)
        // A multiplicative hash of the words; its top bits pick the slot.
        var hash = key.0 &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ key.1) &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ key.2) &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ key.3 ^ UInt64(count)) &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(truncatingIfNeeded: hash >> 56) & (Self.slotCount - 1)
        let stored = keys + slot * Self.wordsPerKey
        if lengths[slot] == count && stored[0] == key.0 && stored[1] == key.1 && stored[2] == key.2
            && stored[3] == key.3
        {
            return values[slot]
        }
        let value = String(decoding: utf8, as: UTF8.self)
        lengths[slot] = count
        stored[0] = key.0
        stored[1] = key.1
        stored[2] = key.2
        stored[3] = key.3
        values[slot] = value
        return value
    }

    /// Packs 1...32 bytes into words without reading past them: whole words
    /// while eight bytes remain, then a last word that ends with the last
    /// byte (overlapping the one before); under eight bytes, loads of 4, 2
    /// and 1 bytes. Two values of the same length give the same words
    /// exactly when their bytes are the same. Unused words stay zero.
    @inline(__always)
    private static func words(_ bytes: UnsafeRawPointer, _ count: Int, into key: inout Key) {
        if count < 8 {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            var offset = 0
            if count & 4 != 0 {
                word = UInt64(bytes.loadUnaligned(as: UInt32.self))
                shift = 32
                offset = 4
            }
            if count & 2 != 0 {
                word |= UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) << shift
                shift += 16
                offset += 2
            }
            if count & 1 != 0 {
                word |= UInt64(bytes.load(fromByteOffset: offset, as: UInt8.self)) << shift
            }
            key.0 = word
            return
        }
        let last = bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        key.0 = bytes.loadUnaligned(as: UInt64.self)
        if count <= 8 { return }
        if count <= 16 {
            key.1 = last
            return
        }
        key.1 = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        if count <= 24 {
            key.2 = last
            return
        }
        key.2 = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        key.3 = last
    }
}

extension StringCache {
    /// The String of a msgpack `str`.
    @inline(__always)
    func string(_ object: MsgPackObject) -> String {
        object.withBytes { span in span.withUnsafeBufferPointer { string($0) } }
    }
}
