internal import Glibc

/// A growable run of bytes, appended with one `memcpy`: the hot buffers of
/// the routed path (the subscriber's batches, each node connection's queue).
/// `[UInt8].append(contentsOf:)` costs about 140 instructions a call for a
/// 76-byte message (its generic copy and uniqueness checks); this, about 30.
///
/// A reference type: whoever holds it owns it (the backlog and the node
/// connection hand buffers between threads under their locks).
final class ByteBuffer: @unchecked Sendable {
    private var storage: UnsafeMutableRawPointer?
    private(set) var count = 0
    private(set) var capacity = 0

    init() {}

    deinit { free(storage) }

    var isEmpty: Bool { count == 0 }

    /// The bytes, valid until the next change.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0, let source = bytes.baseAddress else { return }
        if n > capacity &- count { grow(minimum: count + n) }
        guard let storage else { return }
        memcpy(storage + count, source, n)
        count += n
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Empties it; `keepingCapacity: false` also frees the storage.
    func removeAll(keepingCapacity: Bool = true) {
        count = 0
        if !keepingCapacity {
            free(storage)
            storage = nil
            capacity = 0
        }
    }

    /// Drops the first `n` bytes (the part of a write the socket took).
    func removeFirst(_ n: Int) {
        let n = min(max(0, n), count)
        guard n > 0, let storage else { return }
        memmove(storage, storage + n, count - n)
        count -= n
    }

    /// Puts `other`'s bytes in front of this buffer's (a write cut short
    /// goes back before the frames queued since).
    func prepend(_ other: ByteBuffer) {
        let n = other.count
        guard n > 0, let source = other.storage else { return }
        if n > capacity &- count { grow(minimum: count + n) }
        guard let storage else { return }
        memmove(storage + n, storage, count)
        memcpy(storage, source, n)
        count += n
    }

    /// Doubles (at least) so that appends stay amortised O(1); realloc may
    /// extend in place. Out of memory is the one trap here, as for arrays.
    private func grow(minimum: Int) {
        let wanted = max(minimum, capacity &* 2, 1024)
        guard let grown = realloc(storage, wanted) else { fatalError("out of memory (\(wanted) bytes)") }
        storage = grown
        capacity = wanted
    }
}
