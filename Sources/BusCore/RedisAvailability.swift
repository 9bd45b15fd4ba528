/// Whether busd has Redis, judged from its two connections: the subscriber
/// (connected, and every pattern confirmed) and the registry mirror
/// (connected, the registry rewritten and the outbound backlog flushed).
///
/// A value-type state machine: feed it each connection's state and it says
/// when an outage starts and ends. busd starts in an outage: until both
/// connections are up, Redis is not there.
public struct RedisAvailability: Sendable {
    public enum Transition: Sendable, Equatable {
        case becameUnreachable
        /// `outage` is nil for the first connection after start.
        case becameReachable(outage: Duration?)
    }

    public private(set) var subscriberReady = false
    public private(set) var mirrorReady = false
    /// When the current outage began (nil while reachable).
    public private(set) var unreachableSince: ContinuousClock.Instant?
    private var everReachable = false

    public init(now: ContinuousClock.Instant) {
        unreachableSince = now
    }

    public var isReachable: Bool { unreachableSince == nil }

    public mutating func update(subscriberReady: Bool, now: ContinuousClock.Instant) -> Transition? {
        self.subscriberReady = subscriberReady
        return settle(now: now)
    }

    public mutating func update(mirrorReady: Bool, now: ContinuousClock.Instant) -> Transition? {
        self.mirrorReady = mirrorReady
        return settle(now: now)
    }

    private mutating func settle(now: ContinuousClock.Instant) -> Transition? {
        let up = subscriberReady && mirrorReady
        switch (up, unreachableSince) {
        case (true, let since?):
            unreachableSince = nil
            defer { everReachable = true }
            return .becameReachable(outage: everReachable ? now - since : nil)
        case (false, nil):
            unreachableSince = now
            return .becameUnreachable
        default:
            return nil
        }
    }
}

/// What `/readyz` and `busctl status` report: ready only with Redis
/// reachable through both connections, and no data loss within
/// ``dataLossHold``.
public struct Readiness: Sendable, Hashable {
    /// How long busd reports not ready after Redis cut its subscriber. Long
    /// enough that probes and scrapers on periods up to 15 s see it several
    /// times (a default Kubernetes readiness probe, 10 s × 3 failures, takes
    /// the node out of service briefly); short enough that one loss, which
    /// is over once busd subscribed again, does not keep a node out for
    /// long. The log, the counter and the alert carry it beyond that.
    public static let dataLossHold: Duration = .seconds(60)

    public var subscriberReady: Bool
    public var mirrorReady: Bool
    /// Milliseconds the current outage has lasted (nil while ready).
    public var unreachableForMilliseconds: Int64?
    /// The last cut of the subscriber by Redis and how long ago it was
    /// found, while within ``dataLossHold``.
    public var dataLoss: DataLoss?

    public struct DataLoss: Sendable, Hashable {
        public var cut: SubscriberCut
        public var agoMilliseconds: Int64
    }

    public init(subscriberReady: Bool, mirrorReady: Bool, unreachableForMilliseconds: Int64? = nil) {
        self.subscriberReady = subscriberReady
        self.mirrorReady = mirrorReady
        self.unreachableForMilliseconds = unreachableForMilliseconds
    }

    public var isReady: Bool { subscriberReady && mirrorReady && dataLoss == nil }

    /// Why not ready, for humans; empty when ready.
    public var reasons: [String] {
        var reasons: [String] = []
        if !subscriberReady { reasons.append("the adapter subscription is not established") }
        if !mirrorReady { reasons.append("the registry is not written to Redis") }
        if let loss = dataLoss {
            reasons.append(
                "redis data loss \(loss.agoMilliseconds / 1000) s ago: \(loss.cut); messages were lost "
                    + "(reported for \(Readiness.dataLossHold.components.seconds) s)"
            )
        }
        return reasons
    }
}
