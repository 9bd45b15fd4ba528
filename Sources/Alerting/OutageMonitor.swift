import Durations
public import Foundation

/// When to alert about a Redis outage, as a value-type state machine: feed
/// it what busd observes and the time, and it answers with what to send.
/// It does no I/O and reads no clock, so tests drive it with made-up times.
///
/// - After `grace` of continuous unreachability: `.fire` (repeat 1).
/// - Then every `repeatInterval` while it lasts: `.fire` (repeat 2, 3, ...).
/// - When Redis is reachable again: `.resolve`, but only if something was
///   fired for this outage; shorter outages pass silently.
///
/// Timing uses monotonic instants (a wall-clock jump neither fires nor
/// hides an alert); the wall-clock date is taken once, when the outage
/// starts, for `startsAt`, and the end date is that plus the measured length.
public struct OutageMonitor: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public struct Fire: Sendable, Equatable {
        public let startedAt: Date
        public let duration: Duration
        /// 1 for the first alert of the outage.
        public let repeatNumber: Int
    }

    public struct Resolve: Sendable, Equatable {
        public let startedAt: Date
        public let endedAt: Date
        public let duration: Duration
        /// How many `.fire` actions this outage had (at least 1).
        public let fired: Int
    }

    public enum Action: Sendable, Equatable {
        case fire(Fire)
        case resolve(Resolve)
    }

    /// The outage in progress, as far as alerting is concerned.
    public struct Outage: Sendable, Equatable {
        public let since: Instant
        public let startedAt: Date
        public fileprivate(set) var fired: Int
        /// When the next `.fire` is due; nil when repeats are off and the first went out.
        public fileprivate(set) var nextFire: Instant?
        /// When the last `.fire` was due; nil before the first.
        public fileprivate(set) var lastFire: Instant?
    }

    public private(set) var grace: Duration
    /// Zero: one alert per outage, no repeats.
    public private(set) var repeatInterval: Duration
    public private(set) var outage: Outage?

    public init(grace: Duration, repeatInterval: Duration) {
        self.grace = max(.zero, grace)
        self.repeatInterval = max(.zero, repeatInterval)
    }

    /// When ``tick(now:)`` next has something to do; nil while Redis is
    /// reachable (or nothing more is due).
    public var nextDeadline: Instant? { outage?.nextFire }

    /// Redis could not be reached. Starts an outage unless one is under way
    /// (repeated reports change nothing). With a zero grace it fires at once.
    public mutating func redisUnreachable(now: Instant, date: Date) -> Action? {
        if outage == nil {
            outage = Outage(since: now, startedAt: date, fired: 0, nextFire: now + grace, lastFire: nil)
        }
        return tick(now: now)
    }

    /// Redis answers again. Ends the outage; resolves it if it was alerted.
    public mutating func redisReachable(now: Instant) -> Action? {
        guard let ended = outage else { return nil }
        outage = nil
        guard ended.fired > 0 else { return nil }
        let duration = max(.zero, now - ended.since)
        return .resolve(
            Resolve(
                startedAt: ended.startedAt,
                endedAt: ended.startedAt.addingTimeInterval(duration.seconds),
                duration: duration,
                fired: ended.fired
            )
        )
    }

    /// New thresholds (a reload): the outage in progress stays, its next
    /// alert is re-timed as if they had held from its start: the first at
    /// start + grace, a repeat at the last alert + repeat interval (at once,
    /// on the next tick, when that is already past).
    public mutating func retime(grace: Duration, repeatInterval: Duration) {
        self.grace = max(.zero, grace)
        self.repeatInterval = max(.zero, repeatInterval)
        guard var current = outage else { return }
        if let last = current.lastFire {
            current.nextFire = self.repeatInterval > .zero ? last + self.repeatInterval : nil
        } else {
            current.nextFire = current.since + self.grace
        }
        outage = current
    }

    /// The time passed: fires when an alert is due. A late tick fires once,
    /// not once per missed interval, and the next one stays on the schedule
    /// (start + grace + k × repeat).
    public mutating func tick(now: Instant) -> Action? {
        guard var current = outage, let due = current.nextFire, now >= due else { return nil }
        current.fired += 1
        current.lastFire = due
        if repeatInterval > .zero {
            var next = due + repeatInterval
            while next <= now { next += repeatInterval }
            current.nextFire = next
        } else {
            current.nextFire = nil
        }
        outage = current
        return .fire(Fire(startedAt: current.startedAt, duration: now - current.since, repeatNumber: current.fired))
    }
}
