import SocketIOCodec
import Synchronization

/// Rooms a v2 node was told to join by an APPLY (another server's, an
/// emitter's or its own `socketsJoin`) that its sockets may not have
/// reported yet: the drop by the registry keeps their broadcasts meanwhile.
///
/// A stock node applies a `socketsJoin` request before it handles the
/// broadcast published after it (one Redis connection, in order), so
/// `io.socketsJoin("r"); io.to("r").emit(…)` reaches the sockets it joined.
/// busd hands the join to the node as APPLY, and the node picks the sockets
/// and reports their ROOMS_JOIN when it reads the frame: until then busd's
/// registry lacks the room, and a node filtered by the registry (kind 10)
/// would lose the broadcast. A room kept here only lets a broadcast through
/// to the node, which picks the targets by its own rooms: keeping one too
/// long costs a frame, never a delivery.
///
/// An entry lasts `holdFor` from the APPLY: far longer than a node takes to
/// read its link, and bounded so that a join that chose no socket does not
/// keep the room's broadcasts coming for good.
final class PendingRoomJoins: Sendable {
    private struct Key: Hashable {
        var namespace: String
        var room: String
    }

    private struct Entries {
        /// Each room's end; a later join of a room moves it.
        var held: [Key: ContinuousClock.Instant] = [:]
        /// Every join in order. `holdFor` is one length, so this is also
        /// the order they end in: the expired are taken off its front.
        var ends: [(key: Key, until: ContinuousClock.Instant)] = []
        var first = 0

        mutating func removeExpired(at now: ContinuousClock.Instant) {
            while first < ends.count, ends[first].until <= now {
                let (key, until) = ends[first]
                // A later join of the room keeps it.
                if held[key] == until { held[key] = nil }
                first += 1
            }
            if first > 64 && first * 2 > ends.count {
                ends.removeFirst(first)
                first = 0
            }
        }
    }

    /// How long a room stays after its APPLY.
    let holdFor: Duration
    private let entries = Mutex(Entries())
    /// Rooms held: the check per broadcast is one load while there are none.
    private let held = Atomic<Int>(0)

    init(holdFor: Duration = .seconds(10)) {
        self.holdFor = holdFor
    }

    /// An APPLY that joins `rooms` in `namespace` was handed to the node.
    func joining(_ rooms: [Room], namespace: String, now: ContinuousClock.Instant = .now) {
        guard !rooms.isEmpty else { return }
        let until = now + holdFor
        entries.withLock { entries in
            entries.removeExpired(at: now)
            for room in rooms {
                let key = Key(namespace: namespace, room: room.channelText)
                entries.held[key] = until
                entries.ends.append((key, until))
            }
            held.store(entries.held.count, ordering: .releasing)
        }
    }

    /// Whether a broadcast on `room`'s channel in `namespace` is kept for a
    /// join the node may not have reported yet. (A join adds no socket to a
    /// namespace: its own channel, `room` nil, is never kept.)
    func holds(namespace: String, room: String?) -> Bool {
        // Per broadcast: one load while nothing is held (no clock read).
        guard let room, held.load(ordering: .acquiring) > 0 else { return false }
        return holds(Key(namespace: namespace, room: room), now: .now)
    }

    func holds(namespace: String, room: String?, now: ContinuousClock.Instant) -> Bool {
        guard let room else { return false }
        return holds(Key(namespace: namespace, room: room), now: now)
    }

    private func holds(_ key: Key, now: ContinuousClock.Instant) -> Bool {
        entries.withLock { entries in
            entries.removeExpired(at: now)
            held.store(entries.held.count, ordering: .releasing)
            return entries.held[key] != nil
        }
    }

    /// The node's session ended: its sockets are gone with what they were told.
    func removeAll() {
        entries.withLock { entries in
            entries = Entries()
            held.store(0, ordering: .releasing)
        }
    }

    var count: Int { held.load(ordering: .acquiring) }
}
