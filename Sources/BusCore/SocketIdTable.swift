/// The registry's socket ids by slot, and the index from an id to its slot.
///
/// The index is an open-addressing table of slot numbers (4 bytes a bucket,
/// linear probing, deletion by backward shift: no tombstones) whose keys
/// are the ids in `keys`: a `[SocketKey: Int32]` dictionary would store
/// each 24-byte key a second time, in buckets a quarter empty.
struct SocketIdTable: Sendable {
    /// Indexed by slot; ``SocketKey/empty`` for a free slot.
    private var keys: [SocketKey] = []
    /// The text of the long ids (over 23 bytes), by slot: rare.
    private var longIds: [Int32: String] = [:]
    /// Slot numbers, -1 for an empty bucket; a power of two long.
    private var buckets: [Int32] = []
    private(set) var count = 0

    /// Slots handed out so far (live or free).
    var slotCount: Int { keys.count }

    mutating func reserveCapacity(_ n: Int) {
        keys.reserveCapacity(n)
        if Self.bucketCount(for: n) > buckets.count { rebuild(bucketCount: Self.bucketCount(for: n)) }
    }

    // MARK: Lookup

    func slot(of id: String) -> Int32? {
        guard !buckets.isEmpty else { return nil }
        let key = SocketKey(inline: id) ?? .long
        let mask = buckets.count - 1
        var bucket = Self.hash(key, long: key.isLong ? id : nil) & mask
        return buckets.withUnsafeBufferPointer { buckets in
            keys.withUnsafeBufferPointer { keys in
                while true {
                    let slot = buckets[bucket]
                    if slot < 0 { return nil }
                    if keys[Int(slot)] == key && (!key.isLong || longIds[slot] == id) { return slot }
                    bucket = (bucket + 1) & mask
                }
            }
        }
    }

    func string(at slot: Int) -> String {
        let key = keys[slot]
        return key.isLong ? longIds[Int32(slot)] ?? "" : key.inlineString
    }

    /// The id's UTF-8 bytes, valid during `body`.
    func withUTF8<R>(at slot: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let key = keys[slot]
        guard key.isLong else { return key.withInlineUTF8(body) }
        var text = longIds[Int32(slot)] ?? ""
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    // MARK: Changes

    /// Gives `slot` (a free one, or `slotCount` for a new one) the id
    /// `id`, which must not be in the table.
    mutating func insert(_ id: String, at slot: Int32) {
        // Grown first: the rebuild places every id in `keys`, so the new one must not be there yet.
        if Self.bucketCount(for: count + 1) > buckets.count { rebuild(bucketCount: Self.bucketCount(for: count + 1)) }
        let key = SocketKey(inline: id) ?? .long
        if Int(slot) == keys.count { keys.append(key) } else { keys[Int(slot)] = key }
        if key.isLong { longIds[slot] = id }
        place(slot, hash: hashOfSlot(slot))
        count += 1
    }

    /// Frees `slot`'s id (the slot must hold one).
    mutating func remove(at slot: Int32) {
        let mask = buckets.count - 1
        var hole = hashOfSlot(slot) & mask
        while buckets[hole] != slot { hole = (hole + 1) & mask }
        // Backward shift: move up each later entry of the run that may sit in the hole.
        var next = (hole + 1) & mask
        while buckets[next] >= 0 {
            let home = hashOfSlot(buckets[next]) & mask
            // The entry may move to `hole` when its home is not in (hole, next].
            let distanceToNext = (next - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToNext || distanceToHole == 0 {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = -1
        keys[Int(slot)] = .empty
        longIds[slot] = nil
        count -= 1
    }

    /// Buckets in use: `count` unless an id was indexed twice (tests).
    var indexedCount: Int { buckets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    // MARK: Internals

    /// Buckets for `n` ids at a load of at most three quarters.
    private static func bucketCount(for n: Int) -> Int {
        var buckets = 16
        while n > buckets / 4 * 3 { buckets *= 2 }
        return buckets
    }

    private static func hash(_ key: SocketKey, long: String?) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        if let long { hasher.combine(long) }
        return hasher.finalize()
    }

    private func hashOfSlot(_ slot: Int32) -> Int {
        let key = keys[Int(slot)]
        return Self.hash(key, long: key.isLong ? longIds[slot] ?? "" : nil)
    }

    private mutating func place(_ slot: Int32, hash: Int) {
        let mask = buckets.count - 1
        var bucket = hash & mask
        while buckets[bucket] >= 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = slot
    }

    private mutating func rebuild(bucketCount: Int) {
        buckets = Array(repeating: -1, count: bucketCount)
        for slot in keys.indices where keys[slot] != .empty {
            place(Int32(slot), hash: hashOfSlot(Int32(slot)))
        }
    }
}
