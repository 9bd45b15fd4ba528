import Foundation
import Testing
import TestSupport

/// SIGHUP applies the alert settings of the config file to the running
/// busd: real redis-server, real HTTP listeners as webhooks.
@Suite("busd alert settings reload", .serialized)
struct AlertReloadTests {
    static func config(webhook: String, retries: Int) -> String {
        """
        log:
          level: info
        alerts:
          grace: 1s
          repeat: 0
          role: always
          webhook:
            urls: [\(webhook)]
            retries: \(retries)

        """
    }

    static func statuses(_ sink: PythonSink) -> [String] {
        sink.records().compactMap { record in
            guard let body = record["body"] as? String,
                let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            else { return nil }
            return json["status"] as? String
        }
    }

    /// The first listener answers 500 then 200, slowly: the firing alert is
    /// still being retried there when SIGHUP points the webhook at the
    /// second listener. The retry still reaches the first (nothing in flight
    /// is dropped); the next alert, the resolved notice, goes to the second.
    @Test func aNewWebhookURLTakesTheNextAlertAndTheAlertInFlightFinishes() throws {
        let old = try PythonSink(script: "http_sink.py", arguments: ["--statuses", "500,200", "--delay", "0.5"])
        let new = try PythonSink(script: "http_sink.py", arguments: [])
        let server = try RedisTestServer()
        defer { server.stop() }
        let config = server.directory.appendingPathComponent("busd.yaml")
        try Data(Self.config(webhook: "http://127.0.0.1:\(old.port)/old", retries: 2).utf8).write(to: config)
        let busd = try CollectedBusd(arguments: [
            "--config", config.path, "--redis", server.url, "--node-id", "web-reload", "--http", "off",
            "--socket", server.directory.appendingPathComponent("busd.sock").path, "--redis-timeout", "300ms",
            "--redis-retry-initial", "100ms", "--redis-retry-max", "200ms",
        ])
        defer { busd.stop() }
        #expect(eventually { busd.stderr.contains("busd started") }, "\(busd.stderr)")

        server.kill()
        #expect(eventually(timeout: .seconds(10)) { old.records().count == 1 }, "\(busd.stderr)")
        try Data(Self.config(webhook: "http://127.0.0.1:\(new.port)/new", retries: 2).utf8).write(to: config)
        kill(busd.process.processIdentifier, SIGHUP)
        #expect(
            eventually { busd.stderr.contains("reload: alert settings applied changed=channels") },
            "\(busd.stderr)"
        )
        #expect(old.records().count == 1, "the reload came while the first attempt was in flight")
        // The retry of the alert in flight still goes to the old listener.
        #expect(eventually(timeout: .seconds(10)) { old.records().count == 2 }, "\(busd.stderr)")
        #expect(Self.statuses(old) == ["firing", "firing"])
        #expect(new.records().isEmpty)

        try server.restart()
        #expect(eventually(timeout: .seconds(10)) { new.records().count == 1 }, "\(busd.stderr)")
        #expect(Self.statuses(new) == ["resolved"])
        #expect(new.records().first?["path"] as? String == "/new")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(old.records().count == 2, "\(old.records())\n\(busd.stderr)")
        #expect(!busd.stderr.contains("not applied until a restart"), "\(busd.stderr)")
    }

    /// What a reload cannot apply is named in the log; the alerts still are.
    @Test func settingsThatNeedARestartAreLoggedByName() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let server = try RedisTestServer()
        defer { server.stop() }
        let config = server.directory.appendingPathComponent("busd.yaml")
        try Data(Self.config(webhook: "http://127.0.0.1:\(sink.port)/a", retries: 0).utf8).write(to: config)
        let busd = try CollectedBusd(arguments: [
            "--config", config.path, "--redis", server.url, "--node-id", "web-reload2", "--http", "off",
            "--socket", server.directory.appendingPathComponent("busd.sock").path,
        ])
        defer { busd.stop() }
        #expect(eventually { busd.stderr.contains("busd started") }, "\(busd.stderr)")
        let changed =
            Self.config(webhook: "http://127.0.0.1:\(sink.port)/b", retries: 0).replacingOccurrences(
                of: "  grace: 1s",
                with: "  grace: 3s"
            ) + "drain:\n  deadline: 7s\nacks:\n  timeout: 9s\n"
        try Data(changed.utf8).write(to: config)
        kill(busd.process.processIdentifier, SIGHUP)
        #expect(
            eventually { busd.stderr.contains("reload: alert settings applied changed=channels,grace") },
            "\(busd.stderr)"
        )
        // Every changed setting a reload cannot apply is named, and only those.
        #expect(eventually { busd.stderr.contains("reload: changed settings not applied until a restart") })
        let line = busd.lines.first { $0.contains("not applied until a restart") } ?? ""
        let named = line.components(separatedBy: "settings=").last?.split(separator: ",").map(String.init) ?? []
        #expect(Set(named) == ["acks.timeout", "drain.deadline"], "\(line)")
        #expect(busd.stderr.contains("webhook-1 (http://127.0.0.1:\(sink.port))"), "the new channel line is logged")
    }
}
