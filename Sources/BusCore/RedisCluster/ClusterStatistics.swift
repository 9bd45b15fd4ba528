import Synchronization

/// What the cluster routing of this process did, for the metrics page: one
/// set per process (busd has one deployment).
public final class ClusterStatistics: Sendable {
    public static let shared = ClusterStatistics()

    private let movedCount = Atomic<Int>(0)
    private let askCount = Atomic<Int>(0)
    private let retryCount = Atomic<Int>(0)
    private let topologyReadCount = Atomic<Int>(0)
    private let skippedCount = Atomic<Int>(0)
    private let shardMovedCount = Atomic<Int>(0)
    private let shardEndedCount = Atomic<Int>(0)
    private let shardLinkLostCount = Atomic<Int>(0)

    /// `MOVED` answers followed.
    public var moved: Int { movedCount.load(ordering: .relaxed) }
    /// `ASK` answers followed.
    public var asked: Int { askCount.load(ordering: .relaxed) }
    /// `TRYAGAIN` / `CLUSTERDOWN` answers waited out (or given up on).
    public var retries: Int { retryCount.load(ordering: .relaxed) }
    /// `CLUSTER SLOTS` tables read.
    public var topologyReads: Int { topologyReadCount.load(ordering: .relaxed) }
    /// `CLUSTER SLOTS` entries that could not be used (bad slot, port or host): dropped.
    public var skippedEntries: Int { skippedCount.load(ordering: .relaxed) }

    /// Shard channels subscribed again on another master (sharded adapter),
    /// by why: `moved` (a MOVED reply to SSUBSCRIBE), `ended` (Redis sent
    /// `sunsubscribe`: the slot moved away or the node became a replica),
    /// `link_lost` (the connection to the master was lost).
    public var shardResubscribes: [String: Int] {
        [
            "moved": shardMovedCount.load(ordering: .relaxed),
            "ended": shardEndedCount.load(ordering: .relaxed),
            "link_lost": shardLinkLostCount.load(ordering: .relaxed),
        ]
    }

    func countShardResubscribes(moved: Int = 0, ended: Int = 0, linkLost: Int = 0) {
        if moved > 0 { shardMovedCount.add(moved, ordering: .relaxed) }
        if ended > 0 { shardEndedCount.add(ended, ordering: .relaxed) }
        if linkLost > 0 { shardLinkLostCount.add(linkLost, ordering: .relaxed) }
    }

    func countMoved() { movedCount.add(1, ordering: .relaxed) }
    func countAsk() { askCount.add(1, ordering: .relaxed) }
    func countRetry() { retryCount.add(1, ordering: .relaxed) }
    func countTopology(skipped: Int) {
        topologyReadCount.add(1, ordering: .relaxed)
        if skipped > 0 { skippedCount.add(skipped, ordering: .relaxed) }
    }
}
