import Foundation
import Testing
import TestSupport

/// busd's settings and status endpoints, on the real binaries.
@Suite("busd settings and status endpoints", .serialized)
struct BusdOperationsTests {
    static let busd = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")

    static func runBusd(_ arguments: [String], environment: [String: String] = [:]) throws -> InspectCommandTests.Result
    {
        try InspectCommandTests.run(
            arguments,
            executable: busd,
            environment: ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        )
    }

    static func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("busd-\(UUID().uuidString).yaml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func checkConfigShowsEachSettingWithItsSourceAndHidesSecrets() throws {
        let config = try Self.temporaryFile("redis:\n  url: redis://10.1.2.3:6380/1\nacks:\n  policy: all\n")
        let password = try Self.temporaryFile("hunter2-XYZZY\n")
        defer {
            try? FileManager.default.removeItem(atPath: config)
            try? FileManager.default.removeItem(atPath: password)
        }
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("web-7.sock").path
        let result = try Self.runBusd(
            ["--check-config", "--config", config, "--ack-policy", "none", "--socket", socket],
            environment: [
                "SOCKETBUS_ACKS_TIMEOUT": "5s", "SOCKETBUS_REDIS_PASSWORD_FILE": password,
                "SOCKETBUS_ALERTS_WEBHOOK_TOKEN": "tok-XYZZY",
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        func row(_ key: String) -> [String]? { lines.first { $0.first == key } }
        #expect(row("redis.url")?.dropFirst().first == "redis://:***@10.1.2.3:6380/1")
        #expect(row("acks.policy") == ["acks.policy", "none", "flag", "--ack-policy"])
        #expect(row("acks.timeout") == ["acks.timeout", "5s", "environment", "SOCKETBUS_ACKS_TIMEOUT"])
        #expect(row("acks.retention") == ["acks.retention", "1h", "default"])
        #expect(row("node.id")?.dropFirst().first?.hasSuffix("/web-7") == true)
        #expect(row("alerts.webhook.token")?.dropFirst().first == "(set)")
        #expect(!result.stdout.contains("XYZZY") && !result.stderr.contains("XYZZY"))
    }

    static let badSettings: [([String], [String: String], String, String)] = [
        (["--redis-timeout", "2x"], [:], "", "busd: configuration error: --redis-timeout: '2x' is not a duration"),
        (
            [], ["SOCKETBUS_OUTBOUND_OVERFLOW": "drop-all"], "",
            "SOCKETBUS_OUTBOUND_OVERFLOW (outbound.overflow): 'drop-all' is not one of"
        ),
        ([], [:], "http:\n  listen: everywhere\n", "http.listen (CONFIG line 2): 'everywhere' is not host:port"),
        (
            [], [:], "redis:\n  url: redis://x\n  timout: 2s\n",
            "redis.timout (CONFIG line 3): is not a setting (did you mean redis.timeout?)"
        ),
        ([], [:], "node:\n  id: 'a b'\n", "node.id (CONFIG line 2): 'a b' must be non-empty, without spaces"),
        (
            ["--redis", "redis://:pw@h"], ["SOCKETBUS_REDIS_PASSWORD": "x"], "",
            "SOCKETBUS_REDIS_PASSWORD (redis.password): redis.url carries a password too"
        ),
        ([], [:], "alerts:\n  smtp:\n    to: [a@b.org]\n", "alerts.smtp.to (CONFIG line 3): needs alerts.smtp.url"),
        (
            [], ["SOCKETBUS_REDIS_ULR": "redis://h"], "",
            "SOCKETBUS_REDIS_ULR: names no setting (did you mean SOCKETBUS_REDIS_URL?)"
        ),
        (
            ["--socket", "/nonexistent-dir-of-socketbus/busd.sock"], [:], "",
            "--socket: directory '/nonexistent-dir-of-socketbus' does not exist"
        ),
        (
            [], [:], "redis:\n  url: redis://:pw@h\n",
            "redis.url (CONFIG line 2): a password in the config file is refused"
        ),
        (["--socket-queue-budget", "4"], [:], "", "--socket-queue-budget: 4 is out of range 17...65536"),
        ([], ["SOCKETBUS_SOCKET_MAX_CONNECTIONS": "0"], "", "(socket.max_connections): 0 is out of range 1...1024"),
        ([], [:], "socket:\n  handshake_timeout: 2h\n", "socket.handshake_timeout (CONFIG line 2): must be at most 1h"),
        (["--adapter", "shard"], [:], "", "busd: configuration error: --adapter: 'shard' is not one of classic, sharded"),
        (
            [], [:], "redis:\n  adapter: sharded\n  sharded_subscription_mode: private\n",
            "redis.sharded_subscription_mode (CONFIG line 3): 'private' is not one of static, dynamic, dynamic-private"
        ),
    ]

    @Test(arguments: badSettings)
    func aBadSettingNamesItsKeyAndExits78(
        _ flags: [String],
        _ environment: [String: String],
        _ file: String,
        _ message: String
    ) throws {
        var arguments = ["--check-config"] + flags
        var expected = message
        var path: String?
        if !file.isEmpty {
            path = try Self.temporaryFile(file)
            arguments += ["--config", path!]
            expected = message.replacingOccurrences(of: "CONFIG", with: path!)
        }
        defer { path.map { try? FileManager.default.removeItem(atPath: $0) } }
        let result = try Self.runBusd(arguments, environment: environment)
        #expect(result.status == 78)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(!result.stderr.contains(":pw@"))
    }

    /// One run names every problem, each on its own line, not just the first.
    @Test func everyBadSettingIsReportedAtOnce() throws {
        let path = try Self.temporaryFile("redis:\n  timout: 2s\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.runBusd(
            [
                "--check-config", "--config", path, "--drain-deadline", "2x", "--socket",
                "/nonexistent-dir-of-socketbus/b.sock",
            ],
            environment: ["SOCKETBUS_OUTBOUND_OVERFLOW": "drop-all", "SOCKETBUS_ACK_TIMEOUT": "5s"]
        )
        #expect(result.status == 78)
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("busd: configuration error: ") }
        for expected in [
            "redis.timout (\(path) line 2): is not a setting", "--drain-deadline: '2x' is not a duration",
            "--socket: directory '/nonexistent-dir-of-socketbus' does not exist",
            "SOCKETBUS_OUTBOUND_OVERFLOW (outbound.overflow): 'drop-all' is not one of",
            "SOCKETBUS_ACK_TIMEOUT: names no setting (did you mean SOCKETBUS_ACKS_TIMEOUT?)",
        ] {
            #expect(lines.contains { $0.contains(expected) }, "missing '\(expected)' in:\n\(result.stderr)")
        }
        #expect(lines.count == 5, "\(result.stderr)")
    }

    @Test func everySettingIsAFlagOfBusdAndDocumentedOnceInTheReadme() throws {
        let help = try Self.runBusd(["--help"]).stdout
        let readme = try String(
            contentsOfFile: #filePath.replacingOccurrences(
                of: "Tests/BusCtlTests/BusdOperationsTests.swift",
                with: "README.md"
            ),
            encoding: .utf8
        )
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("busd.sock").path
        let catalog = try Self.runBusd(["--check-config", "--socket", socket]).stdout.split(separator: "\n").dropFirst()
            .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.contains(".") }
        #expect(catalog.count > 40)
        let table = try Self.runBusd(["--settings-table"]).stdout
        #expect(readme.contains(table), "README's settings table differs from busd --settings-table")
        for key in catalog {
            let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| `\(key)`") }
            #expect(rows.count == 1, "README documents \(key) \(rows.count) times")
            let flag = rows.first?.split(separator: "|").dropFirst().first.flatMap { cell in
                cell.split(separator: "`").first { $0.hasPrefix("--") }
            }
            if let flag { #expect(help.contains(String(flag)), "busd --help lacks \(flag)") }
        }
    }

    @Test func statusEndpointsFollowRedisAndBusctlStatusShowsThem() throws {
        let port = try FreePort.find()
        let running = try DeliveryCommandTests.RunningBusd(extraArguments: [
            "--http", "127.0.0.1:\(port)", "--redis-timeout", "300ms",
        ])
        running.connect("status-a")
        #expect(running.waitRegistered("status-a"))
        let address = "127.0.0.1:\(port)"
        #expect(eventually { (try? InspectCommandTests.run(["status", "--http", address]))?.status == 0 })
        let status = try InspectCommandTests.run(["status", "--http", address])
        #expect(status.stdout.contains("state          ready"))
        #expect(status.stdout.contains("registry       1 socket(s)"))
        #expect(status.stdout.contains("node link      1 connection(s)"))
        let page = try InspectCommandTests.run(["status", "--http", address, "--raw"]).stdout
        for family in [
            "socketbus_messages_received_total", "socketbus_messages_delivered_total",
            "socketbus_messages_dropped_total{reason=\"outbound_full\"}", "socketbus_messages_malformed_total",
            "socketbus_confirmations_total{status=\"timeout\"}", "socketbus_registry_sockets 1",
            "socketbus_redis_reconnects_total", "socketbus_redis_connected 1", "socketbus_outbound_buffered",
            "socketbus_local_connections 1", "socketbus_ready 1",
            "socketbus_messages_dropped_total{reason=\"unframable\"} 0",
            "socketbus_local_connections_refused_total{reason=\"limit\"} 0",
            "socketbus_local_connections_refused_total{reason=\"handshake_timeout\"} 0",
            "socketbus_local_frames_rejected_total 0", "socketbus_local_queue_budget_bytes 67108864",
            "socketbus_http_connections_dropped_total{reason=\"deadline\"} 0",
        ] {
            #expect(page.contains(family), "/metrics lacks \(family)")
        }
        // A malformed message on an adapter channel is counted.
        _ = DrainTests.redisCommand(running.server, ["publish", "socket.io#/#", "not msgpack"])
        #expect(
            eventually {
                (try? InspectCommandTests.run(["status", "--http", address, "--raw"]))?.stdout.contains(
                    "socketbus_messages_malformed_total 1"
                ) == true
            }
        )
        // Redis gone: not ready (exit 3) with the reason; back: ready again.
        running.server.kill()
        #expect(eventually { (try? InspectCommandTests.run(["status", "--http", address]))?.status == 3 })
        let down = try InspectCommandTests.run(["status", "--http", address])
        #expect(down.stdout.contains("NOT READY: the adapter subscription is not established"))
        try running.server.restart()
        #expect(
            eventually(timeout: .seconds(10)) {
                (try? InspectCommandTests.run(["status", "--http", address]))?.status == 0
            }
        )
        #expect(try InspectCommandTests.run(["status", "--http", "127.0.0.1:1"]).status == 1)
    }
}
