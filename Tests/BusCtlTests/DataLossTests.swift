import Foundation
import Hiredis
import Testing
import TestSupport

/// Redis cutting busd's subscriber at its `client-output-buffer-limit
/// pubsub`, on the real busd binary: an error log, a counter, a readiness
/// reason and a RedisDataLoss notice at a real webhook listener.
@Suite("busd data loss reporting", .serialized)
struct DataLossTests {
    @Test func aSubscriberCutByRedisIsLoggedCountedNotReadyAndAlerted() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("busd-\(UUID().uuidString).log")
            .path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let port = try FreePort.find()
        let address = "127.0.0.1:\(port)"
        let running = try DeliveryCommandTests.RunningBusd(
            extraArguments: [
                "--http", address, "--redis-timeout", "300ms", "--webhook-url", "http://127.0.0.1:\(sink.port)/hook",
            ],
            redisArguments: ["--client-output-buffer-limit", "pubsub 64kb 0 0"],
            standardError: log
        )
        running.connect("loss-a")
        #expect(running.waitRegistered("loss-a"))
        #expect(eventually { (try? InspectCommandTests.run(["status", "--http", address]))?.status == 0 })

        // One message bigger than the limit: Redis cuts the subscriber at once.
        let redis = try RedisConnection(endpoint: .unix(path: running.server.socketPath))
        _ = try redis.command([
            Array("PUBLISH".utf8), Array("socket.io#/#".utf8), [UInt8](repeating: 0x61, count: 200_000),
        ])

        func metrics() -> String {
            (try? InspectCommandTests.run(["status", "--http", address, "--raw"]))?.stdout ?? ""
        }
        #expect(eventually { metrics().contains("socketbus_redis_data_loss_total 1") })
        let status = try InspectCommandTests.run(["status", "--http", address])
        #expect(status.status == 3, "\(status.stdout)")
        #expect(status.stdout.contains("redis data loss"), "\(status.stdout)")
        #expect(status.stdout.contains("reconnects 1, data loss 1"), "\(status.stdout)")
        #expect(metrics().contains("socketbus_redis_reconnects_total 1"))

        #expect(eventually { sink.records().contains { ($0["body"] as? String)?.contains("RedisDataLoss") == true } })
        let body = try #require(
            sink.records().compactMap { $0["body"] as? String }.first { $0.contains("RedisDataLoss") }
        )
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let alert = try #require((json["alerts"] as? [[String: Any]])?.first)
        let labels = try #require(alert["labels"] as? [String: String])
        #expect(labels["alertname"] == "RedisDataLoss")
        #expect(labels["node"] == "web-1")
        #expect(labels["cause"] == "closed_by_redis")
        #expect(json["status"] as? String == "firing")

        #expect(
            eventually {
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                return text.contains("error")
                    && text.contains("redis data loss: Redis closed the subscriber while it kept running")
            }
        )
    }
}
