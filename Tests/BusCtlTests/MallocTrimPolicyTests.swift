import Testing

@testable import Busd

/// When busd trims: once a large wait has drained, never while it lasts,
/// not for small ones, and not more often than the interval.
@Suite("malloc trim policy")
struct MallocTrimPolicyTests {
    let start = ContinuousClock.now
    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1000)) }

    @Test func trimsOnceALargeBacklogHasDrained() {
        var policy = MallocTrimPolicy(largeBytes: 1000, drainedBytes: 100, minimumInterval: .seconds(10))
        #expect(policy.observe(waitingBytes: 50, at: at(0)) == .wait)
        #expect(policy.observe(waitingBytes: 5000, at: at(0.1)) == .wait)
        #expect(policy.observe(waitingBytes: 300, at: at(0.2)) == .wait, "still draining")
        #expect(policy.observe(waitingBytes: 80, at: at(0.3)) == .trim(peakBytes: 5000))
        #expect(policy.observe(waitingBytes: 0, at: at(0.4)) == .wait, "once per drain")
        #expect(policy.peakBytes == 80)
    }

    @Test func smallWaitsNeverTrim() {
        var policy = MallocTrimPolicy(largeBytes: 1000, drainedBytes: 100, minimumInterval: .seconds(10))
        for step in 0..<100 {
            #expect(policy.observe(waitingBytes: step % 2 == 0 ? 999 : 0, at: at(Double(step))) == .wait)
        }
    }

    /// A backlog that filled and drained between two readings: its peak,
    /// kept by the queues, is enough.
    @Test func aBurstBetweenTwoReadingsTrims() {
        var policy = MallocTrimPolicy(largeBytes: 1000, drainedBytes: 100, minimumInterval: .seconds(10))
        #expect(policy.observe(waitingBytes: 0, peakSinceLast: 900, at: at(0)) == .wait)
        #expect(policy.observe(waitingBytes: 20, peakSinceLast: 4000, at: at(1)) == .trim(peakBytes: 4000))
        #expect(policy.observe(waitingBytes: 0, peakSinceLast: 20, at: at(2)) == .wait)
    }

    /// A second drain within the interval waits for it, then trims if still drained.
    @Test func theIntervalHoldsBackASecondTrim() {
        var policy = MallocTrimPolicy(largeBytes: 1000, drainedBytes: 100, minimumInterval: .seconds(10))
        _ = policy.observe(waitingBytes: 2000, at: at(0))
        #expect(policy.observe(waitingBytes: 0, at: at(1)) == .trim(peakBytes: 2000))
        _ = policy.observe(waitingBytes: 3000, at: at(2))
        #expect(policy.observe(waitingBytes: 0, at: at(3)) == .wait)
        #expect(policy.observe(waitingBytes: 500, at: at(11.5)) == .wait, "due, but not drained")
        #expect(policy.observe(waitingBytes: 10, at: at(12)) == .trim(peakBytes: 3000))
    }
}
