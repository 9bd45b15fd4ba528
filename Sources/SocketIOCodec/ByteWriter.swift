/// Where the JSON and packet writers put their bytes: `[UInt8]` for the
/// general path and the public API, ``ByteWriter`` for the broadcast fast
/// path. Generic code over it is specialised per sink (whole-module builds).
protocol ByteSink {
    mutating func append(_ byte: UInt8)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>)
}

extension Array: ByteSink where Element == UInt8 {}

/// A growable byte buffer behind a raw pointer, for the broadcast fast path.
///
/// Each `[UInt8].append` checks that the array's storage is uniquely
/// referenced (a runtime call) and goes through generic code; a packet of
/// ~80 bytes took ~20 of them, about a tenth of the hot path's instructions.
/// Here a byte costs a capacity check and a store. The decoder that owns a
/// writer keeps it across messages (``reset()`` keeps the memory) and frees
/// it with ``deallocate()``.
struct ByteWriter: ByteSink {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 512) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() {
        base.deallocate()
    }

    mutating func reset() {
        count = 0
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if bytes.count > capacity - count { grow(to: count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Whether the bytes written are exactly `other`'s: eight at a time,
    /// the last eight overlapping the ones before.
    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard other.count == count else { return false }
        guard let theirs = other.baseAddress else { return true }
        let mine = UnsafeRawPointer(base)
        if count < 8 {
            for i in 0..<count where mine.load(fromByteOffset: i, as: UInt8.self) != theirs.load(fromByteOffset: i, as: UInt8.self) {
                return false
            }
            return true
        }
        var i = 0
        while count &- i > 8 {
            if mine.loadUnaligned(fromByteOffset: i, as: UInt64.self) != theirs.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i &+= 8
        }
        return mine.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            == theirs.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
    }

    /// `bytes` between double quotes, for a string with nothing to escape:
    /// one capacity check, and short strings (most keys, event names and
    /// rooms) copied by words rather than by a call to memcpy.
    @inline(__always)
    mutating func appendQuotedPlain(_ bytes: UnsafeBufferPointer<UInt8>) {
        let length = bytes.count
        if length &+ 2 > capacity &- count { grow(to: count &+ length &+ 2) }
        let start = base + count
        start[0] = UInt8(ascii: "\"")
        if let source = bytes.baseAddress {
            let from = UnsafeRawPointer(source)
            let to = UnsafeMutableRawPointer(start + 1)
            if length >= 8 && length <= 16 {
                // Two words, overlapping when under sixteen bytes.
                let head = from.loadUnaligned(as: UInt64.self)
                let tail = from.loadUnaligned(fromByteOffset: length &- 8, as: UInt64.self)
                to.storeBytes(of: head, as: UInt64.self)
                to.storeBytes(of: tail, toByteOffset: length &- 8, as: UInt64.self)
            } else if length >= 4 && length < 8 {
                let head = from.loadUnaligned(as: UInt32.self)
                let tail = from.loadUnaligned(fromByteOffset: length &- 4, as: UInt32.self)
                to.storeBytes(of: head, as: UInt32.self)
                to.storeBytes(of: tail, toByteOffset: length &- 4, as: UInt32.self)
            } else if length < 4 {
                for i in 0..<length { start[1 &+ i] = source[i] }
            } else {
                to.copyMemory(from: from, byteCount: length)
            }
        }
        start[1 &+ length] = UInt8(ascii: "\"")
        count &+= length &+ 2
    }

    /// Opens `width` bytes at `offset`, moving what follows; returns where
    /// to write them. For the rare header that is known only at the end (a
    /// BINARY_EVENT's attachment count).
    mutating func insertGap(at offset: Int, width: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(offset >= 0 && offset <= count && width >= 0)
        if width > capacity - count { grow(to: count + width) }
        // copyMemory is a memmove: the two ranges overlap.
        UnsafeMutableRawPointer(base + offset + width).copyMemory(from: base + offset, byteCount: count - offset)
        count += width
        return base + offset
    }

    /// Overwrites the byte at `offset` (which must have been written).
    mutating func set(_ byte: UInt8, at offset: Int) {
        precondition(offset >= 0 && offset < count)
        base[offset] = byte
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}
