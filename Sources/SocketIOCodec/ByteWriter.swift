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

    /// Whether the bytes written are exactly `other`'s: eight at a time.
    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard other.count == count else { return false }
        guard let theirs = other.baseAddress else { return true }
        let mine = UnsafeRawPointer(base)
        var i = 0
        while count &- i >= 8 {
            if mine.loadUnaligned(fromByteOffset: i, as: UInt64.self) != theirs.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i &+= 8
        }
        while i < count {
            if mine.load(fromByteOffset: i, as: UInt8.self) != theirs.load(fromByteOffset: i, as: UInt8.self) { return false }
            i &+= 1
        }
        return true
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
