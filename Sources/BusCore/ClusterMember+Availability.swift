import Logging
import Synchronization

/// Whether busd can do its job: Redis reachable through both connections,
/// the subscriber not cut by Redis lately; the outbound buffer and the
/// subscriber backlog behind them. Outage starts and ends are logged here.
extension ClusterMember {
    struct AvailabilityState {
        var machine: RedisAvailability
        /// Outbound figures when the current outage began.
        var atOutageStart: OutboundFigures?
        /// When Redis was last found to have cut the subscriber, and why.
        var lastCut: (at: ContinuousClock.Instant, cut: SubscriberCut)?
        var cuts = 0
    }

    /// The outbound buffer (the node's broadcasts and delivery records):
    /// published, dropped, replayed after outages, waiting.
    public var outbound: OutboundFigures { mirror.outbound }

    /// Ready when Redis is reachable through both connections and has not
    /// cut the subscriber within ``Readiness/dataLossHold``.
    public var readiness: Readiness {
        let now = ContinuousClock.now
        return availability.withLock { state in
            var readiness = Readiness(
                subscriberReady: state.machine.subscriberReady,
                mirrorReady: state.machine.mirrorReady,
                unreachableForMilliseconds: state.machine.unreachableSince.map { (now - $0).milliseconds }
            )
            if let last = state.lastCut, now - last.at < Readiness.dataLossHold {
                readiness.dataLoss = Readiness.DataLoss(cut: last.cut, agoMilliseconds: (now - last.at).milliseconds)
            }
            return readiness
        }
    }

    /// Times Redis was found to have cut the subscriber (messages lost).
    public var redisDataLossCount: Int { availability.withLock { $0.cuts } }

    /// Messages read from Redis and dropped because the backlog was full.
    public var subscriberBacklogDropped: Int { subscriber.backlog.dropped.load(ordering: .relaxed) }

    /// Bytes read from Redis and not routed yet.
    public var subscriberBacklogBytes: Int { subscriber.backlog.bytesWaiting }
    /// The most bytes in the subscriber's backlog at once since the last call.
    public func takeSubscriberBacklogPeakBytes() -> Int { subscriber.backlog.takePeakBytes() }

    func subscriberCut(_ cut: SubscriberCut) {
        let count = availability.withLock { state in
            state.lastCut = (.now, cut)
            state.cuts += 1
            return state.cuts
        }
        logger.error(
            "redis data loss: \(cut); what Redis held for busd and what was published until it subscribed again are lost",
            metadata: [
                "cause": "\(cut.cause.rawValue)", "data_loss_total": "\(count)", "redis": "\(configuration.redis)",
            ]
        )
        onDataLoss(cut)
    }

    /// The node ids seen alive in Redis the last time it was reachable
    /// (empty before the first clean-up round): who else would notice an outage.
    public var lastSeenLiveNodes: [String] { mirror.liveNodes }

    /// Applies a connection's change; logs and reports outage start and end.
    func availabilityChanged(_ update: (inout RedisAvailability) -> RedisAvailability.Transition?) {
        if stopping.load(ordering: .relaxed) { return }
        let counts = mirror.outbound
        let (transition, before) = availability.withLock { state -> (RedisAvailability.Transition?, OutboundFigures?) in
            let transition = update(&state.machine)
            let before = state.atOutageStart
            if transition == .becameUnreachable { state.atOutageStart = counts }
            return (transition, before)
        }
        switch transition {
        case .becameUnreachable:
            logger.error(
                "redis unreachable: broadcasts from the node are buffered",
                metadata: ["redis": "\(configuration.redis)"]
            )
            onAvailability(false)
        case .becameReachable(let outage?):
            logger.notice(
                "redis reachable again",
                metadata: [
                    "outage_ms": "\(outage.milliseconds)",
                    "buffered_published": "\(counts.replayed - (before?.replayed ?? 0))",
                    "buffered_dropped": "\(counts.dropped - (before?.dropped ?? 0))",
                ]
            )
            onAvailability(true)
        case .becameReachable(nil):
            logger.info("redis reachable", metadata: ["redis": "\(configuration.redis)"])
            onAvailability(true)
        case nil:
            break
        }
    }
}
