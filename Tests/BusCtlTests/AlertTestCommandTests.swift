import Foundation
import Testing
import TestSupport

/// `busctl alert-test` against a real webhook listener and a dead mail port:
/// one line per channel and the documented exit status.
@Suite("busctl alert-test")
struct AlertTestCommandTests {
    @Test func everyChannelDeliveredExitsZero() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let result = try InspectCommandTests.run([
            "alert-test", "--webhook-url", "http://127.0.0.1:\(sink.port)/hook", "--node", "web-7",
            "--redis-label", "redis://:pw@10.1.2.3:6379",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(
            lines.first?.hasPrefix("ok      webhook-1  http://127.0.0.1:\(sink.port)  1 attempt ") == true,
            "\(lines)"
        )
        #expect(lines.last == "1 channel(s): 1 ok, 0 failed")
        let body = try #require(sink.records().first?["body"] as? String)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let labels = try #require(((json["alerts"] as? [[String: Any]])?.first?["labels"]) as? [String: String])
        #expect(labels["test"] == "true" && labels["node"] == "web-7" && labels["redis"] == "redis://10.1.2.3:6379")
        #expect(json["status"] as? String == "firing")
    }

    @Test func aFailedChannelExitsTwoAndTheOthersStillDeliver() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let deadPort = try FreePort.find()
        let result = try InspectCommandTests.run([
            "alert-test", "--smtp-url", "smtp://127.0.0.1:\(deadPort)", "--smtp-from", "busd@example.com",
            "--smtp-to", "ops@example.com,oncall@example.com", "--smtp-retries", "0", "--webhook-url",
            "http://127.0.0.1:\(sink.port)/",
        ])
        #expect(result.status == 2, "\(result.stdout) \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(
            lines[0].hasPrefix(
                "FAILED  smtp       smtp://127.0.0.1:\(deadPort) to ops@example.com, oncall@example.com  1 attempt "
            )
        )
        #expect(lines[0].contains("Couldn't connect to server"))
        #expect(lines[1].hasPrefix("ok      webhook-1  "))
        #expect(lines[2] == "2 channel(s): 1 ok, 1 failed")
        #expect(sink.records().count == 1)
    }

    @Test func noChannelExitsOne() throws {
        let result = try InspectCommandTests.run(["alert-test"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no alert channel configured"))
    }

    @Test func aBadFlagIsAUsageErrorNamingIt() throws {
        let result = try InspectCommandTests.run(["alert-test", "--webhook-url", "ftp://x/"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--webhook-url: must start with http:// or https://"))
    }
}
