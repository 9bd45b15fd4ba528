import ClusterRequests
import SocketIOCodec

/// What the daemon, the status pages and busctl read of the member, and its
/// subscriptions.
extension ClusterMember {
    public func socket(_ id: String) -> SocketRegistry.Socket? { registry.read { $0.socket(id) }.0 }
    public var socketCount: Int { registry.read { $0.count }.0 }
    public var statistics: Statistics { counters.snapshot }
    public var isRedisConnected: Bool { mirror.isConnected && subscriber.isConnected }
    public var subscribedPatterns: Set<String> { subscriber.confirmedPatterns }
    /// Times the whole registry was written to Redis (first connect, reconnects, data loss).
    public var registryRewrites: Int { mirror.resyncCount }
    public var pendingRegistryWrites: Int { mirror.pendingCount }

    /// The broadcast pattern of each namespace, and, with plain SUBSCRIBE as
    /// a stock node (so `PUBSUB NUMSUB` counts busd), its request channel
    /// and both response channels. Kept while the node is away.
    func subscribe(namespaces: [String]) {
        if let sharded {
            subscribeSharded(namespaces: namespaces, sharded)
            return
        }
        var patterns: [String] = []
        var channels: [String] = []
        for namespace in namespaces {
            patterns.append(AdapterChannel.broadcastPattern(key: configuration.adapterKey, namespace: namespace))
            channels += clusterChannels.subscriptions(namespace, uid: uid)
        }
        subscriber.subscribe(channels: channels)
        subscriber.subscribe(patterns)
    }

    /// Plain channels Redis confirmed (request and response channels).
    public var subscribedChannels: Set<String> { subscriber.confirmedChannels }
}
