/// Deadlines in milliseconds of a monotonic clock.
enum Deadline {
    /// `now + milliseconds`, saturating (a time-out never wraps to the past).
    static func after(_ now: UInt64, _ milliseconds: UInt64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(milliseconds)
        return overflow ? .max : sum
    }
}
