/// Lets one log line through per `interval` for a repeated event (a flood of
/// unframable messages, say), and tells how many were left out in between.
struct LogThrottle: Sendable {
    let interval: Duration
    private var lastLogged: ContinuousClock.Instant?
    private var suppressed = 0

    init(interval: Duration) {
        self.interval = interval
    }

    /// nil: do not log this one. Otherwise: log it, and mention that many
    /// occurrences left out since the last line.
    mutating func admit(now: ContinuousClock.Instant = .now) -> Int? {
        if let last = lastLogged, now - last < interval {
            suppressed += 1
            return nil
        }
        lastLogged = now
        defer { suppressed = 0 }
        return suppressed
    }
}
