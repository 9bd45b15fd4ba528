/// Whether Redis itself closed the subscriber while it kept running, which
/// loses whatever it held for busd (and what was published until busd
/// subscribed again).
///
/// The subscriber reads `INFO` on each new connection before subscribing,
/// and when a connection ended from Redis's side (end of file or reset, not
/// a ping time-out or a stop), compares the figures of the new connection
/// with those of the lost one:
///
/// - another `run_id`: Redis restarted; that is an outage, not this;
/// - `client_output_buffer_limit_disconnections` (Redis 7.2 and later) grew:
///   the output buffer limit, for certain;
/// - `evicted_clients` grew: client eviction (`maxmemory-clients`);
/// - otherwise (Redis 7.0 has no counter for it): the output buffer limit,
///   or a `CLIENT KILL`, or something between busd and Redis resetting the
///   connection. Redis discarded what it held for busd in each case.
public struct SubscriberCut: Sendable, Hashable, CustomStringConvertible {
    public enum Cause: String, Sendable, Hashable {
        case outputBufferLimit = "output_buffer_limit"
        case clientEviction = "client_eviction"
        /// Output buffer limit, most likely: Redis does not count those before 7.2.
        case closedByRedis = "closed_by_redis"
    }

    public var cause: Cause

    public init(cause: Cause) {
        self.cause = cause
    }

    public var description: String {
        switch cause {
        case .outputBufferLimit:
            return "Redis cut the subscriber at its output buffer limit (client-output-buffer-limit pubsub)"
        case .clientEviction: return "Redis evicted the subscriber (maxmemory-clients)"
        case .closedByRedis:
            return
                "Redis closed the subscriber while it kept running (most likely client-output-buffer-limit pubsub; or CLIENT KILL)"
        }
    }

    /// The `INFO` figures compared.
    struct ServerFigures: Sendable, Hashable {
        var runId: String
        var evictedClients: Int?
        var outputLimitDisconnections: Int?

        /// Parsed from the text of `INFO`; nil without a `run_id`.
        init?(info: String) {
            var fields: [Substring: Substring] = [:]
            for line in info.split(whereSeparator: \.isNewline) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon]] = line[line.index(after: colon)...]
            }
            guard let runId = fields["run_id"] else { return nil }
            self.runId = String(runId)
            evictedClients = fields["evicted_clients"].flatMap { Int($0) }
            outputLimitDisconnections = fields["client_output_buffer_limit_disconnections"].flatMap { Int($0) }
        }
    }

    /// What the figures before and after a connection Redis closed say.
    static func judge(before: ServerFigures, after: ServerFigures) -> SubscriberCut? {
        guard before.runId == after.runId else { return nil }
        if let old = before.outputLimitDisconnections, let new = after.outputLimitDisconnections, new > old {
            return SubscriberCut(cause: .outputBufferLimit)
        }
        if let old = before.evictedClients, let new = after.evictedClients, new > old {
            return SubscriberCut(cause: .clientEviction)
        }
        return SubscriberCut(cause: .closedByRedis)
    }
}
