import ClusterRequests
import SocketIOCodec
import Synchronization

/// busd's state as a member of a sharded-adapter cluster: the wire
/// translation of the request machines, the room channels subscribed for
/// the node's rooms (dynamic modes), and the counters of what was read.
final class ShardedMembership: Sendable {
    let channels: ShardedChannels
    let wire: Mutex<ShardedWire>
    /// Room channels SSUBSCRIBEd for the node's rooms.
    let roomChannels = Mutex<Set<String>>([])
    let counters = ShardedCounters()

    init(mode: ShardedChannels.Mode, prefix: String, classic: ClusterChannels, uid: String, retention: Duration) {
        channels = ShardedChannels(prefix: prefix, mode: mode)
        var wire = ShardedWire(channels: channels, classic: classic, uid: uid)
        wire.retentionMilliseconds = max(60_000, UInt64(retention.milliseconds) * 2)
        self.wire = Mutex(wire)
    }

    private let origin = ContinuousClock.now

    /// Milliseconds on a monotonic clock (the requester memory's).
    var now: UInt64 {
        let elapsed = ContinuousClock.now - origin
        return UInt64(max(0, elapsed.components.seconds)) * 1000
            + UInt64(max(0, elapsed.components.attoseconds) / 1_000_000_000_000_000)
    }
}

/// What busd read on sharded channels, for /metrics.
final class ShardedCounters: Sendable {
    private let state = Mutex<(received: [String: Int], malformed: Int, unpublishable: Int)>(([:], 0, 0))

    func received(_ type: ShardedMessageType) { state.withLock { $0.received[type.name.lowercased(), default: 0] += 1 } }
    func malformed() { state.withLock { $0.malformed += 1 } }
    func unpublishable() { state.withLock { $0.unpublishable += 1 } }

    var snapshot: ShardedStatistics {
        state.withLock {
            ShardedStatistics(received: $0.received, malformed: $0.malformed, unpublishable: $0.unpublishable)
        }
    }
}

/// Counts of the sharded adapter's traffic.
public struct ShardedStatistics: Sendable, Hashable {
    /// ClusterAdapter messages read from other servers, by type (`broadcast`, `fetch_sockets`, …).
    public var received: [String: Int]
    /// Messages on a sharded channel that were not a ClusterAdapter message
    /// a stock node could act on: skipped.
    public var malformed: Int
    /// Messages the request machines published that have no sharded form (dropped).
    public var unpublishable: Int
}
