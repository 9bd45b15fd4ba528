import Hiredis
import Logging

/// The subscriber's sharded pub/sub on a Redis Cluster: one connection per
/// master that owns the slot of a subscribed channel, each SSUBSCRIBE and
/// SUNSUBSCRIBE sent on the connection to its channel's slot owner.
///
/// Belongs to the subscriber's reader thread. What a cluster does to
/// sharded subscribers is taken as "subscribe that channel again where its
/// slot is now": a `MOVED` reply to SSUBSCRIBE, a `sunsubscribe` Redis sends
/// on its own (the slot moved away, the node was demoted), a connection lost
/// (the master died: its replica is promoted within the node time-out).
final class ShardLinks {
    struct Link {
        let connection: RedisConnection
        var lastTraffic = ContinuousClock.now
        var pingSentAt: ContinuousClock.Instant?
    }

    let router: ClusterRouter
    private let logger: Logger
    private let timeout: Duration
    private(set) var links: [RedisConnection.Endpoint: Link] = [:]
    /// The node each channel was last SSUBSCRIBEd on.
    private var home: [String: RedisConnection.Endpoint] = [:]
    /// Read the slot table before routing again.
    var stale = false
    /// After a failure, no new routing before this (the cluster is failing over).
    private var pauseUntil: ContinuousClock.Instant?

    init(router: ClusterRouter, timeout: Duration, logger: Logger) {
        self.router = router
        self.timeout = timeout
        self.logger = logger
    }

    deinit { close() }

    func close() {
        for link in links.values { link.connection.close() }
        links = [:]
        home = [:]
        router.close()
    }

    var connections: [(RedisConnection.Endpoint, RedisConnection)] { links.map { ($0.key, $0.value.connection) } }

    /// Whether channels may be routed now (not right after a failure).
    var mayRoute: Bool {
        guard let pauseUntil else { return true }
        return ContinuousClock.now >= pauseUntil
    }

    /// The connection to the master owning `channel`'s slot (opened on first use).
    func connection(for channel: String) throws(RedisError) -> RedisConnection {
        if stale {
            try router.refreshTopology()
            stale = false
        }
        let endpoint = try router.masterEndpoint(ofSlot: ClusterKeySlot.slot(of: channel))
        home[channel] = endpoint
        if let link = links[endpoint], link.connection.isOpen { return link.connection }
        let connection = try router.configuration.connect(to: endpoint, timeout: timeout)
        links[endpoint] = Link(connection: connection)
        logger.info("subscriber connected to cluster master for shard channels", metadata: ["node": "\(endpoint)"])
        return connection
    }

    /// The connection `channel` was subscribed on, for its SUNSUBSCRIBE.
    func connection(unsubscribing channel: String) -> RedisConnection? {
        guard let endpoint = home.removeValue(forKey: channel) else { return nil }
        return links[endpoint]?.connection
    }

    /// Routing failed: read the table again, pause a little, route again later.
    func routingFailed(_ error: RedisError) {
        stale = true
        pauseUntil = ContinuousClock.now + .milliseconds(200)
        logger.debug("cluster: shard channel not routed yet: \(error)")
    }

    /// A link failed (the master is gone, or answered what busd cannot use):
    /// closed; its channels are returned, to be subscribed again where
    /// their slots are now.
    func drop(_ endpoint: RedisConnection.Endpoint, because error: any Error) -> [String] {
        links.removeValue(forKey: endpoint)?.connection.close()
        let lost = home.filter { $0.value == endpoint }.map(\.key)
        for channel in lost { home.removeValue(forKey: channel) }
        stale = true
        pauseUntil = ContinuousClock.now + .milliseconds(100)
        ClusterStatistics.shared.countShardResubscribes(linkLost: lost.count)
        logger.warning(
            "subscriber lost a cluster master of shard channels: \(error)",
            metadata: ["node": "\(endpoint)", "channels": "\(lost.count)"]
        )
        return lost
    }

    /// `MOVED` in answer to an SSUBSCRIBE on `endpoint`: the channels of that
    /// slot homed there are to be subscribed again, after reading the table.
    func moved(slot: Int, on endpoint: RedisConnection.Endpoint) -> [String] {
        let lost = home.filter { $0.value == endpoint && ClusterKeySlot.slot(of: $0.key) == slot }.map(\.key)
        for channel in lost { home.removeValue(forKey: channel) }
        stale = true
        ClusterStatistics.shared.countShardResubscribes(moved: lost.count)
        logger.info(
            "cluster: MOVED in answer to SSUBSCRIBE",
            metadata: ["slot": "\(slot)", "channels": "\(lost.count)"]
        )
        return lost
    }

    /// Redis ended the subscription of a channel busd still wants (its slot
    /// moved away, or the node became a replica): subscribe it again.
    func unsubscribedByRedis(_ channel: String) {
        home.removeValue(forKey: channel)
        stale = true
        ClusterStatistics.shared.countShardResubscribes(ended: 1)
        logger.info(
            "cluster: Redis ended a shard subscription; subscribing it again",
            metadata: ["channel": "\(channel)"]
        )
    }

    func noteTraffic(_ endpoint: RedisConnection.Endpoint) {
        links[endpoint]?.lastTraffic = .now
        links[endpoint]?.pingSentAt = nil
    }

    /// PINGs idle links; the endpoints of those that did not answer in time.
    func ping(interval: Duration, timeout: Duration) -> [RedisConnection.Endpoint] {
        var dead: [RedisConnection.Endpoint] = []
        let now = ContinuousClock.now
        for (endpoint, link) in links {
            if let sent = link.pingSentAt {
                if now - sent > timeout { dead.append(endpoint) }
            } else if now - link.lastTraffic > interval {
                do {
                    try link.connection.append(["PING"])
                    links[endpoint]?.pingSentAt = now
                } catch {
                    dead.append(endpoint)
                }
            }
        }
        return dead
    }
}
