import Alerting
import Foundation
import Testing
import TestSupport

/// What busd uses, end to end with a real webhook listener: grace, repeats,
/// the resolved notice, the sender choice, and outages too short to alert.
@Suite("OutageAlerter end to end")
struct OutageAlerterTests {
    static func settings(sink: PythonSink?, grace: Duration, repeat interval: Duration, role: AlertRole = .always)
        -> AlertSettings
    {
        AlertSettings(
            webhooks: sink.map {
                [
                    WebhookSettings(
                        url: "http://127.0.0.1:\($0.port)/alerts",
                        delivery: DeliveryPolicy(timeout: .seconds(5), retries: 0)
                    )
                ]
            } ?? [],
            grace: grace,
            repeatInterval: interval,
            role: role,
            senders: 1
        )
    }

    static func alerts(_ sink: PythonSink) -> [[String: Any]] {
        sink.records().compactMap { record in
            (record["body"] as? String).flatMap { try? Fixtures.json($0) }?["alerts"].flatMap {
                ($0 as? [[String: Any]])?.first
            }
        }
    }

    @Test func firesAfterTheGraceRepeatsAndResolves() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let logs = LogCapture()
        let alerter = OutageAlerter(
            settings: Self.settings(sink: sink, grace: .milliseconds(400), repeat: .milliseconds(600)),
            node: "web-1",
            redisDescription: "redis://:hunter2@10.0.0.5:6379",
            hostName: "host-a",
            knownNodes: { ["web-1", "web-2"] },
            logger: logs.logger
        )
        defer { alerter.stop() }
        let clock = ContinuousClock()
        let start = clock.now
        alerter.reachabilityChanged(false)
        alerter.reachabilityChanged(false)  // idempotent
        #expect(alerter.state.outageStartedAt != nil && !alerter.state.redisReachable)
        #expect(eventually(timeout: .seconds(5)) { Self.alerts(sink).count == 2 })
        #expect(clock.now - start >= .milliseconds(1000), "first after 400 ms, second 600 ms later")
        alerter.reachabilityChanged(true)
        #expect(eventually(timeout: .seconds(5)) { Self.alerts(sink).count == 3 })

        let alerts = Self.alerts(sink)
        try #require(alerts.count == 3)
        #expect(alerts.map { $0["status"] as? String } == ["firing", "firing", "resolved"])
        #expect(alerts.map { ($0["annotations"] as? [String: String])?["repeat"] } == ["1", "2", nil])
        #expect(Set(alerts.compactMap { $0["fingerprint"] as? String }).count == 1)
        #expect(Set(alerts.compactMap { $0["startsAt"] as? String }).count == 1)
        let labels = alerts[0]["labels"] as? [String: String]
        #expect(
            labels?["node"] == "web-1" && labels?["host"] == "host-a" && labels?["redis"] == "redis://10.0.0.5:6379"
        )
        #expect(alerts[2]["endsAt"] as? String != "0001-01-01T00:00:00Z")
        let seconds = Int((alerts[2]["annotations"] as? [String: String])?["duration_seconds"] ?? "")
        #expect((1...3).contains(seconds ?? 0), "the outage lasted a little over 1 s")

        let state = alerter.state
        #expect(state.redisReachable && state.outageStartedAt == nil)
        #expect(state.firingsSent == 2 && state.resolvedSent == 1 && state.firingsQuiet == 0)
        #expect(alerter.counters.first?.sent == 3)
        #expect(logs.contains("error Redis unreachable for"))
        #expect(logs.contains("notice Redis reachable again after"))
        #expect(!logs.text.contains("hunter2"))
    }

    @Test func anOutageShorterThanTheGraceSendsNothing() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let alerter = OutageAlerter(
            settings: Self.settings(sink: sink, grace: .seconds(1), repeat: .seconds(60)),
            node: "web-1",
            redisDescription: "redis://r",
            knownNodes: { [] },
            logger: LogCapture().logger
        )
        defer { alerter.stop() }
        alerter.reachabilityChanged(false)
        usleep(100_000)
        alerter.reachabilityChanged(true)
        usleep(1_300_000)  // past the grace: had the outage gone on, it would have fired
        #expect(sink.records().isEmpty)
        #expect(alerter.state.firingsSent == 0 && alerter.state.resolvedSent == 0)
    }

    @Test func aNodeThatIsNotElectedStaysQuietAndSaysWhy() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let logs = LogCapture()
        let alerter = OutageAlerter(
            settings: Self.settings(sink: sink, grace: .milliseconds(100), repeat: .seconds(60), role: .elected),
            node: "web-2",
            redisDescription: "redis://r",
            knownNodes: { ["web-3", "web-1"] },
            logger: logs.logger
        )
        defer { alerter.stop() }
        alerter.reachabilityChanged(false)
        #expect(eventually { alerter.state.firingsQuiet == 1 })
        #expect(alerter.state.lastDecision?.senders == ["web-1"])
        #expect(logs.contains("warning Redis unreachable for"))
        #expect(
            logs.contains(
                "this node does not send the alert (web-2 is not among the first 1 of 3 known node(s); sent by web-1)"
            )
        )
        alerter.reachabilityChanged(true)
        #expect(eventually { logs.contains("this node sent no alert for the outage") })
        #expect(sink.records().isEmpty)
    }

    @Test func theElectedNodeSends() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let alerter = OutageAlerter(
            settings: Self.settings(sink: sink, grace: .milliseconds(100), repeat: .seconds(60), role: .elected),
            node: "web-1",
            redisDescription: "redis://r",
            knownNodes: { ["web-3", "web-2"] },
            logger: LogCapture().logger
        )
        defer { alerter.stop() }
        alerter.reachabilityChanged(false)
        #expect(eventually { Self.alerts(sink).count == 1 })
        #expect(alerter.state.lastDecision?.sends == true)
        #expect(alerter.state.alertsSent == 1)
    }

    @Test func withoutChannelsTheOutageIsLogged() {
        let logs = LogCapture()
        let alerter = OutageAlerter(
            settings: Self.settings(sink: nil, grace: .zero, repeat: .zero),
            node: "web-1",
            redisDescription: "redis://r",
            knownNodes: { [] },
            logger: logs.logger
        )
        defer { alerter.stop() }
        alerter.reachabilityChanged(false)
        #expect(eventually { logs.contains("no alert channel configured") })
        #expect(alerter.state.firingsQuiet == 1)
        #expect(alerter.counters.isEmpty)
    }

    @Test func reachabilityReportsFromManyThreadsAreCheap() {
        let alerter = OutageAlerter(
            settings: Self.settings(sink: nil, grace: .seconds(60), repeat: .zero),
            node: "web-1",
            redisDescription: "redis://r",
            knownNodes: { [] },
            logger: LogCapture().logger
        )
        defer { alerter.stop() }
        let clock = ContinuousClock()
        let start = clock.now
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<5000 { alerter.reachabilityChanged((i + worker) % 2 == 0) }
        }
        #expect(clock.now - start < .seconds(2))
        alerter.reachabilityChanged(true)
        #expect(alerter.state.redisReachable && alerter.state.firingsSent == 0)
    }
}
