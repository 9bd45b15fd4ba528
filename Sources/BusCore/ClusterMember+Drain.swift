import Logging
import Synchronization

extension ClusterMember {
    /// The first step of a graceful shutdown: no more messages from Redis
    /// (the adapter subscription ends), and Redis coming or going is no
    /// longer an outage to report.
    public func stopTakingMessages() {
        stopping.store(true, ordering: .relaxed)
        subscriber.stop()
    }

    /// The last step: writes every queued registry change, node broadcast
    /// and delivery record to Redis (waiting out an outage up to the
    /// deadline), then removes this node's registry entries. Returns false
    /// when that could not finish in `timeout`; the member is stopped either
    /// way, and what was left is logged.
    @discardableResult
    public func drainToRedis(timeout: Duration) -> Bool {
        // Outcomes still awaited are not written: the node is going away.
        tracker.stop()
        let left = mirror.drain(timeout: timeout)
        if !left {
            let waiting = mirror.outbound.waiting
            logger.error(
                "drain deadline reached: this node's registry entries stay until their liveness key expires",
                metadata: ["unpublished": "\(waiting)", "unwritten_registry_changes": "\(mirror.pendingCount)"])
            mirror.stop(removeEntries: false)
        }
        return left
    }
}

extension ClusterMember {
    /// Times the adapter subscription reconnected to Redis.
    public var redisReconnects: Int { subscriber.reconnectCount }
}
