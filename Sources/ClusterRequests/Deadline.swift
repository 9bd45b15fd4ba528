/// Deadlines in milliseconds of a monotonic clock.
enum Deadline {
    /// `now + milliseconds`, saturating (a time-out never wraps to the past).
    static func after(_ now: UInt64, _ milliseconds: UInt64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(milliseconds)
        return overflow ? .max : sum
    }
}

/// A lower bound of a machine's next deadline, kept as deadlines are added,
/// so that a timer woken for nothing due costs one comparison instead of a
/// walk over every pending request. It may be earlier than the true next
/// deadline (what it named was settled meanwhile), never later.
struct EarliestDeadline: Sendable {
    private(set) var value: UInt64?

    mutating func note(_ deadline: UInt64) {
        value = min(value ?? deadline, deadline)
    }

    /// Whether anything can be due at `now`.
    func isDue(_ now: UInt64) -> Bool { value.map { $0 <= now } ?? false }

    mutating func reset(to deadline: UInt64?) { value = deadline }
}
