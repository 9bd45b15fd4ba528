import Hiredis
import Logging
import Synchronization

/// The subscriber's two ways of losing messages, made visible: its backlog
/// dropping what does not fit, and Redis cutting its connection.
extension AdapterSubscriber {
    /// Logs when the backlog starts and stops dropping (not per message).
    func noteDrops(_ count: Int) {
        if count > 0 {
            let total = backlog.dropped.add(count, ordering: .relaxed).newValue
            if !dropping {
                dropping = true
                logger.error(
                    "subscriber backlog full: messages from Redis are dropped until routing catches up",
                    metadata: ["limit_bytes": "\(backlog.limit)", "dropped_total": "\(total)"]
                )
            }
        } else if dropping {
            dropping = false
            logger.notice(
                "subscriber backlog has room again",
                metadata: ["dropped_total": "\(backlog.dropped.load(ordering: .relaxed))"]
            )
        }
    }

    /// Reads `INFO` on a new connection (before it subscribes) and, when
    /// Redis closed the last one, reports what the figures say.
    func checkForCut(on connection: RedisConnection, lastClosedByRedis: Bool) {
        let figures: SubscriberCut.ServerFigures?
        do {
            let reply = try connection.command(["INFO"])
            figures = reply.string.flatMap(SubscriberCut.ServerFigures.init(info:))
            if figures == nil {
                logger.debug("no run_id in INFO: a cut by Redis cannot be told apart", metadata: ["reply": "\(reply)"])
            }
        } catch {
            logger.debug("INFO failed: a cut by Redis cannot be told apart: \(error)")
            figures = nil
        }
        defer { lastFigures = figures }
        guard lastClosedByRedis else { return }
        guard let before = lastFigures, let after = figures else {
            logger.warning(
                "Redis closed the subscriber; whether it was cut for falling behind is unknown (no INFO figures)"
            )
            return
        }
        if let cut = SubscriberCut.judge(before: before, after: after) { onCut(cut) }
    }

    /// The end of a connection that Redis (or something on the way) chose.
    static func isClosedByRedis(_ error: any Error) -> Bool {
        guard let error = error as? RedisError else { return false }
        return error.code == .eof || (error.code == .io && error.message.lowercased().contains("reset"))
    }
}
