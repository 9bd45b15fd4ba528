import Foundation
import Testing
import TestSupport

/// `--json` of `busctl status`, `busctl alert-test` and `busd --check-config`:
/// one JSON document on standard output, parsed here, with the text forms'
/// exit statuses. Real busd, real redis-server, real webhook listener.
@Suite("JSON output of status, alert-test and check-config", .serialized)
struct JSONOutputTests {
    static func object(_ text: String) throws -> [String: Any] {
        let data = Data(text.utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(text)")
    }

    @Test func statusJSONFollowsReadinessWithTheSameExitStatuses() throws {
        let port = try FreePort.find()
        let running = try DeliveryCommandTests.RunningBusd(extraArguments: [
            "--http", "127.0.0.1:\(port)", "--redis-timeout", "300ms",
        ])
        running.connect("json-a")
        #expect(running.waitRegistered("json-a"))
        let address = "127.0.0.1:\(port)"
        #expect(eventually { (try? InspectCommandTests.run(["status", "--http", address, "--json"]))?.status == 0 })
        let up = try InspectCommandTests.run(["status", "--http", address, "--json"])
        #expect(up.status == 0)
        let ready = try Self.object(up.stdout)
        #expect(ready["address"] as? String == address)
        #expect(ready["reachable"] as? Bool == true)
        #expect(ready["ready"] as? Bool == true)
        #expect((ready["reasons"] as? [Any])?.isEmpty == true)
        let node = try #require(ready["node"] as? [String: Any])
        #expect(node["id"] as? String == "web-1")
        #expect((node["uid"] as? String)?.isEmpty == false)
        #expect((ready["uptime_seconds"] as? Double).map { $0 >= 0 && $0 < 600 } == true)
        #expect((ready["redis"] as? [String: Any])?["connected"] as? Bool == true)
        #expect((ready["registry"] as? [String: Any])?["sockets"] as? Double == 1)
        #expect((ready["node_link"] as? [String: Any])?["connections"] as? Double == 1)
        let messages = try #require(ready["messages"] as? [String: Any])
        #expect(messages["received"] is Double && messages["delivered"] is Double)
        #expect((messages["dropped"] as? [String: Any])?["outbound_full"] as? Double == 0)
        let confirmations = try #require(ready["confirmations"] as? [String: Any])
        #expect(Set(confirmations.keys) == ["delivered", "timeout", "disconnected", "pending"])
        #expect((ready["outbound"] as? [String: Any])?["limit"] as? Double ?? 0 > 0)
        #expect(ready["alerts"] is [Any])

        // Redis gone: exit 3, ready false, the reason listed.
        running.server.kill()
        #expect(eventually { (try? InspectCommandTests.run(["status", "--http", address, "--json"]))?.status == 3 })
        let down = try Self.object(try InspectCommandTests.run(["status", "--http", address, "--json"]).stdout)
        #expect(down["ready"] as? Bool == false)
        let reasons = (down["reasons"] as? [String]) ?? []
        #expect(reasons.contains { $0.contains("the adapter subscription is not established") }, "\(reasons)")
        #expect((down["redis"] as? [String: Any])?["connected"] as? Bool == false)

        // Nobody there: exit 1 and still one JSON object.
        let nobody = try InspectCommandTests.run(["status", "--http", "127.0.0.1:1", "--json"])
        #expect(nobody.status == 1)
        let unreachable = try Self.object(nobody.stdout)
        #expect(unreachable["reachable"] as? Bool == false)
        #expect((unreachable["error"] as? String)?.isEmpty == false)
    }

    @Test func alertTestJSONListsEachChannelAndExitsTwoOnAFailure() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let deadPort = try FreePort.find()
        let result = try InspectCommandTests.run([
            "alert-test", "--json", "--smtp-url", "smtp://127.0.0.1:\(deadPort)", "--smtp-from", "busd@example.com",
            "--smtp-to", "ops@example.com", "--smtp-retries", "0", "--webhook-url", "http://127.0.0.1:\(sink.port)/",
        ])
        #expect(result.status == 2, "\(result.stdout) \(result.stderr)")
        let report = try Self.object(result.stdout)
        #expect(report["ok"] as? Double == 1 && report["failed"] as? Double == 1)
        let channels = try #require(report["channels"] as? [[String: Any]])
        #expect(channels.count == 2)
        #expect(channels.first?["channel"] as? String == "smtp")
        #expect(channels.first?["ok"] as? Bool == false)
        #expect((channels.first?["error"] as? String)?.contains("Couldn't connect to server") == true)
        #expect(channels.first?["attempts"] as? Double == 1)
        #expect(channels.last?["channel"] as? String == "webhook-1")
        #expect(channels.last?["target"] as? String == "http://127.0.0.1:\(sink.port)")
        #expect(channels.last?["ok"] as? Bool == true)
        #expect(channels.last?["error"] is NSNull)
        #expect((channels.last?["elapsed_ms"] as? Double).map { $0 >= 0 } == true)
        #expect(sink.records().count == 1)

        let none = try InspectCommandTests.run(["alert-test", "--json"])
        #expect(none.status == 1)
        let empty = try Self.object(none.stdout)
        #expect((empty["channels"] as? [Any])?.isEmpty == true)
        #expect((empty["error"] as? String)?.contains("no alert channel") == true)
    }

    @Test func checkConfigJSONShowsEffectiveSettingsWithSecretsRedacted() throws {
        let config = try BusdOperationsTests.temporaryFile("redis:\n  url: redis://10.1.2.3:6380/1\n")
        let password = try BusdOperationsTests.temporaryFile("hunter2-XYZZY\n")
        defer {
            try? FileManager.default.removeItem(atPath: config)
            try? FileManager.default.removeItem(atPath: password)
        }
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("web-7.sock").path
        let result = try BusdOperationsTests.runBusd(
            ["--check-config", "--json", "--config", config, "--ack-policy", "none", "--socket", socket],
            environment: ["SOCKETBUS_REDIS_PASSWORD_FILE": password, "SOCKETBUS_ALERTS_WEBHOOK_TOKEN": "tok-XYZZY"]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("XYZZY"))
        let report = try Self.object(result.stdout)
        #expect(report["valid"] as? Bool == true)
        #expect(report["file"] as? String == config)
        #expect((report["errors"] as? [Any])?.isEmpty == true)
        let rows = try #require(report["settings"] as? [[String: Any]])
        func row(_ key: String) -> [String: Any]? { rows.first { $0["key"] as? String == key } }
        #expect(row("redis.url")?["value"] as? String == "redis://:***@10.1.2.3:6380/1")
        #expect(row("redis.url")?["source"] as? String == "\(config) line 2")
        #expect(row("acks.policy")?["value"] as? String == "none")
        #expect(row("acks.policy")?["source"] as? String == "flag --ack-policy")
        #expect(row("acks.retention")?["source"] as? String == "default")
        #expect(row("alerts.webhook.token")?["value"] as? String == "(set)")
        #expect(row("alerts.smtp.url")?["value"] is NSNull)
        #expect(rows.count > 30)
    }

    @Test func checkConfigJSONListsEveryErrorWithItsKeyAndExits78() throws {
        let path = try BusdOperationsTests.temporaryFile("redis:\n  timout: 2s\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try BusdOperationsTests.runBusd(
            ["--check-config", "--json", "--config", path, "--drain-deadline", "2x"],
            environment: ["SOCKETBUS_OUTBOUND_OVERFLOW": "drop-all"]
        )
        #expect(result.status == 78)
        let report = try Self.object(result.stdout)
        #expect(report["valid"] as? Bool == false)
        let errors = try #require(report["errors"] as? [[String: Any]])
        // socket.path: its default directory (/run/socketbus) is not there on a test machine.
        #expect(errors.count == 4, "\(errors)")
        let keys = Set(errors.compactMap { $0["key"] as? String })
        #expect(keys == ["redis.timout", "drain.deadline", "outbound.overflow", "socket.path"])
        let deadline = errors.first { $0["key"] as? String == "drain.deadline" }
        #expect(deadline?["source"] as? String == "flag --drain-deadline")
        #expect((deadline?["reason"] as? String)?.contains("'2x' is not a duration") == true)
        #expect((deadline?["message"] as? String)?.hasPrefix("--drain-deadline: ") == true)

        // --json without --check-config is a usage error.
        #expect(try BusdOperationsTests.runBusd(["--json"]).status == 64)
    }
}
