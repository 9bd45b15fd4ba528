import Alerting
import Foundation
import Testing
import TestSupport

/// Channels on their own threads: a dead or hanging channel blocks neither
/// the others nor the caller; retries, counters, and no secret in any log.
@Suite("AlertDispatcher with real servers")
struct AlertDispatcherTests {
    static func smtp(port: Int, timeout: Duration, retries: Int, password: String? = nil) -> SMTPSettings {
        SMTPSettings(
            url: "smtp://127.0.0.1:\(port)",
            startTLS: .off,
            username: password == nil ? nil : "busd",
            password: password.map(Secret.init),
            from: "busd@example.com",
            recipients: ["ops@example.com"],
            delivery: DeliveryPolicy(timeout: timeout, retries: retries, backoff: .milliseconds(100))
        )
    }

    static func webhook(_ url: String, retries: Int = 0, token: String? = nil) -> WebhookSettings {
        WebhookSettings(
            url: url,
            bearerToken: token.map(Secret.init),
            delivery: DeliveryPolicy(timeout: .seconds(5), retries: retries, backoff: .milliseconds(50))
        )
    }

    @Test func aDeadSMTPPortFailsAfterItsRetriesWhileTheWebhookDelivers() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let settings = AlertSettings(
            smtp: Self.smtp(port: try FreePort.find(), timeout: .seconds(2), retries: 2),
            webhooks: [Self.webhook("http://127.0.0.1:\(sink.port)/")]
        )
        let dispatcher = AlertDispatcher(settings: settings, logger: LogCapture().logger)
        defer { dispatcher.stop(timeout: .seconds(1)) }
        let results = dispatcher.sendAndWait(Fixtures.firing, timeout: .seconds(10))
        try #require(results.count == 2)
        #expect(results[0].channel == "smtp" && !results[0].succeeded && results[0].attempts == 3)
        #expect(results[0].error?.contains("127.0.0.1") == true)
        // Three refused connections and two pauses (100 ms, 200 ms): well inside the time-outs.
        #expect(results[0].elapsed >= .milliseconds(300) && results[0].elapsed < .seconds(6))
        #expect(results[1].channel == "webhook-1" && results[1].succeeded && results[1].attempts == 1)
        #expect(sink.records().count == 1)
        #expect(dispatcher.counters.map(\.channel) == ["smtp", "webhook-1"])
        #expect(
            dispatcher.counters[0].failed == 1 && dispatcher.counters[0].attempts == 3
                && dispatcher.counters[0].sent == 0
        )
        #expect(dispatcher.counters[1].sent == 1 && dispatcher.counters[1].failed == 0)
    }

    /// A mail server that accepts the connection and never greets: the SMTP
    /// thread waits out its time-out (twice), the webhook is long delivered,
    /// and `submit` returned at once.
    @Test func aHangingMailServerBlocksNeitherTheWebhookNorTheCaller() throws {
        let silent = try SilentListener()
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let settings = AlertSettings(
            smtp: Self.smtp(port: silent.port, timeout: .milliseconds(700), retries: 1),
            webhooks: [Self.webhook("http://127.0.0.1:\(sink.port)/")]
        )
        let dispatcher = AlertDispatcher(settings: settings, logger: LogCapture().logger)
        defer { dispatcher.stop(timeout: .seconds(1)) }
        let clock = ContinuousClock()
        let start = clock.now
        dispatcher.submit(Fixtures.firing)
        #expect(clock.now - start < .milliseconds(500))  // far below one 700 ms SMTP time-out
        #expect(eventually(timeout: .seconds(5)) { sink.records().count == 1 })
        let webhookDone = clock.now - start
        #expect(
            dispatcher.counters[0].sent == 0 && dispatcher.counters[0].failed == 0,
            "SMTP still trying while the webhook is done"
        )
        #expect(eventually(timeout: .seconds(6)) { dispatcher.counters[0].failed == 1 })
        let smtpDone = clock.now - start
        #expect(dispatcher.counters[0].attempts == 2)
        #expect(webhookDone < .milliseconds(1400))  // before SMTP could have given up
        #expect(smtpDone >= .milliseconds(1400) && smtpDone < .seconds(5))
    }

    @Test func a500IsRetriedTheConfiguredNumberOfTimes() throws {
        let failing = try PythonSink(script: "http_sink.py", arguments: ["--statuses", "500"])
        let flaky = try PythonSink(script: "http_sink.py", arguments: ["--statuses", "503,502,200"])
        let dispatcher = AlertDispatcher(
            settings: AlertSettings(webhooks: [
                Self.webhook("http://127.0.0.1:\(failing.port)/", retries: 2),
                Self.webhook("http://127.0.0.1:\(flaky.port)/", retries: 2),
            ]),
            logger: LogCapture().logger
        )
        defer { dispatcher.stop(timeout: .seconds(1)) }
        let results = dispatcher.sendAndWait(Fixtures.firing, timeout: .seconds(10))
        #expect(!results[0].succeeded && results[0].attempts == 3)
        #expect(results[0].error == "HTTP 500: sink says no second line")
        #expect(failing.records().count == 3)
        #expect(results[1].succeeded && results[1].attempts == 3)
        #expect(flaky.records().count == 3)
        #expect(dispatcher.counters[0].failed == 1 && dispatcher.counters[1].sent == 1)
    }

    @Test func secretsAppearInNoLogAndNoResult() throws {
        let sink = try PythonSink(script: "smtp_sink.py", arguments: ["--mode", "plain", "--auth", "busd:right"])
        let failing = try PythonSink(script: "http_sink.py", arguments: ["--statuses", "401"])
        let logs = LogCapture()
        let settings = AlertSettings(
            smtp: Self.smtp(port: sink.port, timeout: .seconds(5), retries: 1, password: "pw-XYZZY"),
            webhooks: [
                Self.webhook(
                    "http://127.0.0.1:\(failing.port)/services/T0/B0/path-XYZZY",
                    retries: 1,
                    token: "tok-XYZZY"
                )
            ]
        )
        let dispatcher = AlertDispatcher(settings: settings, logger: logs.logger)
        defer { dispatcher.stop(timeout: .seconds(1)) }
        let results = dispatcher.sendAndWait(Fixtures.firing, timeout: .seconds(10))
        #expect(results.allSatisfy { !$0.succeeded && $0.attempts == 2 })
        #expect(
            failing.records().first?["headers"].flatMap { ($0 as? [String: String])?["authorization"] }
                == "Bearer tok-XYZZY"
        )
        #expect(results[1].target == "http://127.0.0.1:\(failing.port)")
        #expect(logs.contains("alert not delivered"))
        let everything =
            logs.text + results.map { "\($0)" }.joined() + "\(settings)" + dispatcher.channels.map(\.target).joined()
        #expect(!everything.contains("XYZZY"))
    }

    @Test func aFullQueueDropsTheOldestAndStopDoesNotWaitForAHungTransfer() throws {
        let silent = try SilentListener()
        let channel = SMTPChannel(
            settings: Self.smtp(port: silent.port, timeout: .seconds(2), retries: 0),
            hostName: "h"
        )
        let dispatcher = AlertDispatcher(channels: [channel], logger: LogCapture().logger, queueLimit: 2)
        dispatcher.submit(Fixtures.firing)
        #expect(eventually { dispatcher.counters[0].attempts == 1 })  // in the hung transfer
        for _ in 0..<4 { dispatcher.submit(Fixtures.repeated) }
        #expect(dispatcher.counters[0].dropped == 2)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(dispatcher.stop(timeout: .milliseconds(200)) == false)
        #expect(clock.now - start < .milliseconds(1500))  // the hung transfer lasts 2 s
        // Once the transfer times out, the thread ends and the queued events are dropped.
        #expect(
            eventually(timeout: .seconds(4)) {
                dispatcher.counters[0].dropped == 4 && dispatcher.counters[0].failed == 1
            }
        )
        dispatcher.submit(Fixtures.resolved)
        #expect(dispatcher.counters[0].dropped == 5)
    }

    @Test func noChannelsNoResults() {
        let dispatcher = AlertDispatcher(channels: [], logger: LogCapture().logger)
        #expect(dispatcher.sendAndWait(Fixtures.test).isEmpty)
        #expect(dispatcher.stop(timeout: .zero))
    }

    static let pauses: [(Int, Duration)] = [
        (1, .seconds(1)), (2, .seconds(2)), (3, .seconds(4)), (5, .seconds(16)), (6, .seconds(30)), (40, .seconds(30)),
    ]

    @Test(arguments: pauses)
    func backoffDoublesAndIsCapped(_ attempt: Int, _ pause: Duration) {
        #expect(DeliveryPolicy(timeout: .seconds(5), retries: 2).pause(afterAttempt: attempt) == pause)
    }

    @Test func worstCaseCountsEveryAttemptAndPause() {
        #expect(DeliveryPolicy(timeout: .seconds(5), retries: 2).worstCase == .seconds(5 + 1 + 5 + 2 + 5))
        #expect(DeliveryPolicy(timeout: .seconds(5), retries: 0).worstCase == .seconds(5))
    }
}
