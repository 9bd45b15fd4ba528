import Alerting
import Foundation
import Testing

/// New thresholds from a reload re-time the outage in progress.
@Suite("OutageMonitor: thresholds changed during an outage")
struct OutageMonitorRetimeTests {
    let start = ContinuousClock.now

    func at(_ ms: Int64) -> ContinuousClock.Instant { start + .milliseconds(ms) }

    @Test func aShorterGraceBeforeTheFirstAlertFiresAtTheNewDeadline() {
        var monitor = OutageMonitor(grace: .seconds(60), repeatInterval: .seconds(3600))
        #expect(monitor.redisUnreachable(now: at(0), date: Date()) == nil)
        #expect(monitor.tick(now: at(5000)) == nil)
        monitor.retime(grace: .seconds(10), repeatInterval: .seconds(3600))
        #expect(monitor.nextDeadline == at(10_000))
        #expect(monitor.tick(now: at(9999)) == nil)
        guard case .fire(let fire) = monitor.tick(now: at(10_000)) else {
            Issue.record("no alert at start + the new grace")
            return
        }
        #expect(fire.repeatNumber == 1)
    }

    @Test func aNewRepeatIntervalCountsFromTheLastAlert() {
        var monitor = OutageMonitor(grace: .zero, repeatInterval: .seconds(3600))
        guard case .fire = monitor.redisUnreachable(now: at(0), date: Date()) else {
            Issue.record("zero grace fires at once")
            return
        }
        monitor.retime(grace: .zero, repeatInterval: .seconds(30))
        #expect(monitor.nextDeadline == at(30_000))
        monitor.retime(grace: .zero, repeatInterval: .zero)
        #expect(monitor.nextDeadline == nil, "repeats off")
        #expect(monitor.tick(now: at(100_000)) == nil)
    }

    @Test func withoutAnOutageOnlyTheThresholdsChange() {
        var monitor = OutageMonitor(grace: .seconds(10), repeatInterval: .seconds(60))
        monitor.retime(grace: .seconds(2), repeatInterval: .seconds(5))
        #expect(monitor.grace == .seconds(2) && monitor.repeatInterval == .seconds(5))
        #expect(monitor.nextDeadline == nil)
        #expect(monitor.redisUnreachable(now: at(0), date: Date()) == nil)
        #expect(monitor.nextDeadline == at(2000))
    }
}
