public import Foundation

/// Where an alert comes from: the labels every alert of this busd carries.
public struct AlertSource: Sendable, Equatable {
    /// The busd's node id (the `node` label).
    public var node: String
    /// The machine's host name (the `host` label).
    public var host: String
    /// The Redis busd talks to, never with its password (the `redis` label).
    public var redis: String

    public init(node: String, host: String, redis: String) {
        self.node = node
        self.host = host
        // Callers pass a URL; a password in it must not reach a mailbox.
        self.redis = AlertURL.withoutPassword(redis)
    }
}

/// One notification: an outage firing (first or repeated), its end, or a
/// test from `busctl alert-test`. Channels render it (webhook JSON, email);
/// it holds no channel-specific detail.
public struct AlertEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The outage lasts; `repeatNumber` is 1 for the first alert.
        case firing(repeatNumber: Int)
        /// The outage ended; `endsAt` and `duration` say when and how long.
        case resolved
        /// A test: sent as firing with the label `test="true"`.
        case test
        /// A one-off event (data loss): sent as firing, no resolved notice follows.
        case notice
    }

    /// The alert name of a Redis outage, as in Prometheus/Alertmanager.
    public static let redisUnreachable = "RedisUnreachable"
    /// The alert name of messages lost because Redis cut busd's subscriber.
    public static let redisDataLoss = "RedisDataLoss"

    public var kind: Kind
    /// Includes `alertname`; sorted by name wherever it is written out.
    public var labels: [String: String]
    /// One line: the email subject's text and the `summary` annotation.
    public var summary: String
    /// A few sentences: the email body's lead and the `description` annotation.
    public var details: String
    /// When the outage began (wall clock, taken when it was first seen).
    public var startsAt: Date
    /// When it ended; nil while it lasts.
    public var endsAt: Date?
    /// How long the outage has lasted (firing) or lasted (resolved); zero for a test.
    public var duration: Duration

    public init(
        kind: Kind,
        labels: [String: String],
        summary: String,
        details: String,
        startsAt: Date,
        endsAt: Date?,
        duration: Duration
    ) {
        self.kind = kind
        self.labels = labels
        self.summary = summary
        self.details = details
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.duration = duration
    }

    /// `firing` or `resolved`: the only two statuses Alertmanager's format
    /// knows, so a test is `firing` (told apart by its `test` label).
    public var status: String { kind == .resolved ? "resolved" : "firing" }

    public var alertname: String { labels["alertname"] ?? Self.redisUnreachable }

    public var isTest: Bool { kind == .test }
}

extension AlertEvent {
    /// The outage has lasted `duration` since `startedAt`; alert number `repeatNumber`.
    public static func outageFiring(
        source: AlertSource,
        startedAt: Date,
        duration: Duration,
        repeatNumber: Int,
        cause: OutageCause = .unreachable
    ) -> AlertEvent {
        let lasted = HumanDuration.format(duration)
        let again = repeatNumber > 1 ? " This is reminder \(repeatNumber - 1) for this outage." : ""
        return AlertEvent(
            kind: .firing(repeatNumber: repeatNumber),
            labels: labels(source, cause),
            summary: "\(cause.summary) from node \(source.node) for \(lasted)",
            details: """
                busd on node \(source.node) (host \(source.host)) \(cause.situation(redis: source.redis)) \
                since \(AlertTimestamp.rfc3339(startedAt)) (\(lasted)). Broadcasts between Socket.IO nodes \
                are not delivered while this lasts; the node's own clients stay connected.\(again)
                """,
            startsAt: startedAt,
            endsAt: nil,
            duration: duration
        )
    }

    /// The outage that began at `startedAt` ended at `endedAt`, after `duration`.
    public static func outageResolved(
        source: AlertSource,
        startedAt: Date,
        endedAt: Date,
        duration: Duration,
        cause: OutageCause = .unreachable
    ) -> AlertEvent {
        let lasted = HumanDuration.format(duration)
        return AlertEvent(
            kind: .resolved,
            labels: labels(source, cause),
            summary: "Redis reachable again from node \(source.node) after \(lasted)",
            details: """
                busd on node \(source.node) (host \(source.host)) reaches Redis at \(source.redis) again. \
                The outage began at \(AlertTimestamp.rfc3339(startedAt)) and ended at \
                \(AlertTimestamp.rfc3339(endedAt)) (\(lasted)).
                """,
            startsAt: startedAt,
            endsAt: endedAt,
            duration: duration
        )
    }

    /// Redis cut the subscriber (`why` says how busd knows): the messages
    /// Redis held for it, and those published until it subscribed again, are lost.
    public static func dataLoss(source: AlertSource, at date: Date, cause: String, why: String) -> AlertEvent {
        var labels = labels(source)
        labels["alertname"] = redisDataLoss
        labels["cause"] = cause
        return AlertEvent(
            kind: .notice,
            labels: labels,
            summary: "Redis dropped messages for node \(source.node)",
            details: """
                busd on node \(source.node) (host \(source.host)) lost broadcasts from Redis at \(source.redis) \
                at \(AlertTimestamp.rfc3339(date)): \(why). The messages Redis held for it and those published \
                until it subscribed again were not delivered to the node's clients. It is subscribed again; \
                check the subscriber's client-output-buffer-limit pubsub and busd's CPU.
                """,
            startsAt: date,
            endsAt: nil,
            duration: .zero
        )
    }

    /// A test from `busctl alert-test`: the same labels as a real alert (so it
    /// takes the same routes) plus `test="true"`.
    public static func test(source: AlertSource, at date: Date) -> AlertEvent {
        var labels = labels(source)
        labels["test"] = "true"
        return AlertEvent(
            kind: .test,
            labels: labels,
            summary: "Test alert from node \(source.node)",
            details: """
                This is a test sent by `busctl alert-test` on host \(source.host) to check that socketbus \
                alerts reach you. There is no outage. Redis: \(source.redis).
                """,
            startsAt: date,
            endsAt: nil,
            duration: .zero
        )
    }

    private static func labels(_ source: AlertSource, _ cause: OutageCause = .unreachable) -> [String: String] {
        [
            "alertname": cause.alertname,
            "node": source.node,
            "host": source.host,
            "redis": source.redis,
            "severity": "critical",
        ]
    }
}
