import Hiredis
import Logging
import Synchronization

/// With Redis Sentinel, a fail-over is an outage busd ends itself: when the
/// sentinels announce a new master, both connections are dropped and made
/// again at once (``RedisConfiguration/connect(timeout:)`` asks the
/// sentinels), and the outage path does the rest: resubscribe, rewrite the
/// registry on the new master, publish what was buffered.
extension ClusterMember {
    /// Before the connections start: the mirror's hook is set before its thread runs.
    func startSentinelWatcher() {
        guard let sentinel = configuration.redis.sentinel else { return }
        // A demoted master found by the mirror's writes: the subscriber,
        // which only reads, would stay on it (a replica still relays pub/sub,
        // but stock servers count busd on the master).
        // Weak, as every callback a component's thread makes (ClusterMember.init).
        mirror.onReadOnlyReplica = { [weak self] in
            guard let self, !self.stopping.load(ordering: .relaxed) else { return }
            self.subscriber.reconnectNow()
        }
        var settings = SentinelWatcher.Settings()
        settings.timeout = configuration.redisTimeout
        settings.pingInterval = configuration.pingInterval
        settings.backoff = configuration.reconnectBackoff
        let watcher = SentinelWatcher(sentinel: sentinel, settings: settings, logger: logger) {
            [weak self] _ in
            guard let self, !self.stopping.load(ordering: .relaxed) else { return }
            self.subscriber.reconnectNow()
            self.mirror.reconnectNow()
            self.serverCounter.reconnectNow()
        }
        sentinelWatcher = watcher
        watcher.start()
    }

    /// Master switches the sentinel watcher saw (0 without Sentinel).
    public var sentinelSwitches: Int { sentinelWatcher?.switchCount ?? 0 }
}
