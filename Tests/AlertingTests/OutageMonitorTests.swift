import Alerting
import Foundation
import Testing

/// The alert schedule, driven with made-up instants: grace, repeats,
/// resolution only after a firing, idempotent inputs, late ticks.
@Suite("OutageMonitor: when an outage is alerted")
struct OutageMonitorTests {
    enum Input: Sendable {
        case down(ms: Int64)
        case up(ms: Int64)
        case tick(ms: Int64)
    }

    enum Expected: Equatable, Sendable {
        case fire(afterMs: Int64, repeatNumber: Int)
        case resolve(afterMs: Int64, fired: Int)
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        let name: String
        let graceMs: Int64
        let repeatMs: Int64
        let steps: [(Input, Expected?)]
        var testDescription: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(
            name: "an outage shorter than the grace sends nothing",
            graceMs: 10_000,
            repeatMs: 3_600_000,
            steps: [
                (.down(ms: 0), nil), (.tick(ms: 5000), nil), (.tick(ms: 9999), nil), (.up(ms: 9999), nil),
                (.tick(ms: 20_000), nil),
            ]
        ),
        Scenario(
            name: "fires once the grace has passed, resolves with the duration",
            graceMs: 10_000,
            repeatMs: 3_600_000,
            steps: [
                (.down(ms: 0), nil), (.tick(ms: 9999), nil),
                (.tick(ms: 10_000), .fire(afterMs: 10_000, repeatNumber: 1)),
                (.tick(ms: 10_001), nil), (.up(ms: 125_000), .resolve(afterMs: 125_000, fired: 1)),
                (.up(ms: 126_000), nil),
            ]
        ),
        Scenario(
            name: "repeats every interval while the outage lasts",
            graceMs: 10_000,
            repeatMs: 60_000,
            steps: [
                (.down(ms: 0), nil), (.tick(ms: 10_000), .fire(afterMs: 10_000, repeatNumber: 1)),
                (.tick(ms: 69_999), nil),
                (.tick(ms: 70_000), .fire(afterMs: 70_000, repeatNumber: 2)),
                (.tick(ms: 130_500), .fire(afterMs: 130_500, repeatNumber: 3)),
                (.tick(ms: 189_999), nil), (.up(ms: 190_500), .resolve(afterMs: 190_500, fired: 3)),
            ]
        ),
        Scenario(
            name: "a late tick fires once and the schedule stays start + grace + k * repeat",
            graceMs: 10_000,
            repeatMs: 60_000,
            steps: [
                (.down(ms: 0), nil), (.tick(ms: 10_000), .fire(afterMs: 10_000, repeatNumber: 1)),
                (.tick(ms: 200_000), .fire(afterMs: 200_000, repeatNumber: 2)), (.tick(ms: 249_999), nil),
                (.tick(ms: 250_000), .fire(afterMs: 250_000, repeatNumber: 3)),
            ]
        ),
        Scenario(
            name: "repeated unreachable reports neither restart nor duplicate the outage",
            graceMs: 10_000,
            repeatMs: 60_000,
            steps: [
                (.down(ms: 0), nil), (.down(ms: 5000), nil), (.down(ms: 9000), nil),
                (.down(ms: 10_000), .fire(afterMs: 10_000, repeatNumber: 1)), (.down(ms: 11_000), nil),
                (.tick(ms: 12_000), nil),
            ]
        ),
        Scenario(
            name: "a zero repeat interval alerts once per outage",
            graceMs: 1000,
            repeatMs: 0,
            steps: [
                (.down(ms: 0), nil), (.tick(ms: 1000), .fire(afterMs: 1000, repeatNumber: 1)),
                (.tick(ms: 10_000_000), nil),
                (.up(ms: 10_000_001), .resolve(afterMs: 10_000_001, fired: 1)),
            ]
        ),
        Scenario(
            name: "a zero grace fires on the first report",
            graceMs: 0,
            repeatMs: 60_000,
            steps: [
                (.down(ms: 0), .fire(afterMs: 0, repeatNumber: 1)), (.up(ms: 500), .resolve(afterMs: 500, fired: 1)),
            ]
        ),
        Scenario(
            name: "the next outage starts afresh",
            graceMs: 1000,
            repeatMs: 60_000,
            steps: [
                (.down(ms: 0), nil), (.tick(ms: 1000), .fire(afterMs: 1000, repeatNumber: 1)),
                (.up(ms: 1500), .resolve(afterMs: 1500, fired: 1)),
                (.down(ms: 2000), nil), (.tick(ms: 2999), nil),
                (.tick(ms: 3000), .fire(afterMs: 1000, repeatNumber: 1)),
                (.up(ms: 3100), .resolve(afterMs: 1100, fired: 1)),
            ]
        ),
        Scenario(
            name: "reachable reports and ticks without an outage do nothing",
            graceMs: 1000,
            repeatMs: 1000,
            steps: [(.up(ms: 0), nil), (.tick(ms: 5000), nil), (.up(ms: 6000), nil)]
        ),
        Scenario(
            name: "an outage past the grace that no tick saw is not resolved (it was never alerted)",
            graceMs: 1000,
            repeatMs: 1000,
            steps: [(.down(ms: 0), nil), (.up(ms: 5000), nil)]
        ),
    ]

    @Test(arguments: scenarios)
    func schedule(_ scenario: Scenario) {
        var monitor = OutageMonitor(
            grace: .milliseconds(scenario.graceMs),
            repeatInterval: .milliseconds(scenario.repeatMs)
        )
        let origin = ContinuousClock.now
        var outageOrigin: Int64 = 0
        for (index, (input, expected)) in scenario.steps.enumerated() {
            let action: OutageMonitor.Action?
            switch input {
            case .down(let ms):
                if monitor.outage == nil { outageOrigin = ms }
                action = monitor.redisUnreachable(
                    now: origin + .milliseconds(ms),
                    date: Date(timeIntervalSince1970: Double(ms) / 1000)
                )
            case .up(let ms): action = monitor.redisReachable(now: origin + .milliseconds(ms))
            case .tick(let ms): action = monitor.tick(now: origin + .milliseconds(ms))
            }
            let seen: Expected? =
                switch action {
                case .fire(let fire)?: .fire(afterMs: fire.duration.milliseconds, repeatNumber: fire.repeatNumber)
                case .resolve(let resolve)?: .resolve(afterMs: resolve.duration.milliseconds, fired: resolve.fired)
                case nil: nil
                }
            #expect(seen == expected, "step \(index): \(input)")
            // startsAt is the wall clock at the outage's first report, and endsAt
            // that plus the monotonic duration.
            switch action {
            case .fire(let fire)?: #expect(fire.startedAt == Date(timeIntervalSince1970: Double(outageOrigin) / 1000))
            case .resolve(let resolve)?:
                #expect(resolve.startedAt == Date(timeIntervalSince1970: Double(outageOrigin) / 1000))
                #expect(
                    abs(
                        resolve.endedAt.timeIntervalSince(resolve.startedAt) - Double(resolve.duration.milliseconds)
                            / 1000
                    ) < 0.001
                )
            case nil: break
            }
        }
    }

    @Test func nextDeadlineFollowsTheSchedule() {
        var monitor = OutageMonitor(grace: .seconds(10), repeatInterval: .seconds(60))
        let t0 = ContinuousClock.now
        #expect(monitor.nextDeadline == nil)
        _ = monitor.redisUnreachable(now: t0, date: Date())
        #expect(monitor.nextDeadline == t0 + .seconds(10))
        _ = monitor.tick(now: t0 + .seconds(10))
        #expect(monitor.nextDeadline == t0 + .seconds(70))
        _ = monitor.redisReachable(now: t0 + .seconds(80))
        #expect(monitor.nextDeadline == nil)
        #expect(monitor.outage == nil)
    }

    @Test func negativeSettingsAreClampedToZero() {
        let monitor = OutageMonitor(grace: .seconds(-5), repeatInterval: .seconds(-1))
        #expect(monitor.grace == .zero)
        #expect(monitor.repeatInterval == .zero)
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
