import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A connection reader's progress, counted so that the router can tell
/// whether every byte the node has written so far has been applied (see
/// ``ClusterMember/mayHaveTargets(namespace:room:)`` for why it asks).
///
/// The reader counts a read as begun before its read(2) takes any bytes
/// off the socket, and as applied once every frame completed by those bytes
/// has been handled (the registry changed). It waits for bytes with a
/// `MSG_PEEK` receive, which takes none, so a reader idle in its wait has no
/// read begun and unapplied.
struct LinkReadProgress: ~Copyable {
    private let begun = Atomic<UInt64>(0)
    private let applied = Atomic<UInt64>(0)

    /// Before the read(2) that takes bytes: returns the read's number.
    /// Sequentially consistent (a full barrier): the count is visible before
    /// the socket's receive queue, which the router looks at through the
    /// kernel's queue lock, shows any byte taken.
    func begin() -> UInt64 {
        begun.add(1, ordering: .sequentiallyConsistent).newValue
    }

    /// After the frames of read `number` were handled (or nothing was taken).
    func finish(_ number: UInt64) {
        applied.store(number, ordering: .releasing)
    }

    /// Whether every read begun so far has been applied: `begun` first, then
    /// `applied` (a read that begins in between is not one the caller
    /// needs: it began after the caller's look at the socket).
    var isSettled: Bool {
        let begun = begun.load(ordering: .sequentiallyConsistent)
        return applied.load(ordering: .acquiring) >= begun
    }

    /// Bytes the node wrote that no read has taken yet; nil when the
    /// kernel does not say (the caller then assumes some).
    static func unreadBytes(fd: Int32) -> Int? {
        var count: Int32 = 0
        guard ioctl(fd, UInt(FIONREAD), &count) == 0 else { return nil }
        return Int(count)
    }
}

/// How the subscriber's reader and the router ask the node link whether it
/// has applied everything its node wrote (set by ``NodeLinkServer``;
/// without one there is nothing to wait for).
final class LinkReadFence: Sendable {
    private let check = Mutex<(@Sendable () -> Bool)?>(nil)

    func install(_ body: @escaping @Sendable () -> Bool) {
        check.withLock { $0 = body }
    }

    /// True when every byte any node connection had written before this
    /// call has been read and its frames applied.
    func isSettled() -> Bool {
        // Called under the lock: no copy of the closure (a retain and a
        // release per read of the subscriber); installs are rare.
        check.withLock { body in body?() ?? true }
    }
}
