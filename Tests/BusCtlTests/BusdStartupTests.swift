import Foundation
import Hiredis
import LocalProtocol
import Testing
import TestSupport

/// busd's start-up checks, on the real binary and a real redis-server:
/// whatever refuses a start comes before anything is written to Redis;
/// refused credentials are a configuration error at start and an alert of
/// their own kind later; a drain with nothing ever sent is prompt.
@Suite("busd start-up and Redis credentials", .serialized)
struct BusdStartupTests {
    static let busd = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
    static let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]

    static func launch(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = busd
        process.arguments = arguments
        process.environment = environment.merging(extra) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, err)
    }

    /// Waits for busd to exit; one still running after 15 s (a start that
    /// should have been refused) is killed, which the status shows.
    static func finish(_ launched: (Process, Pipe)) -> (status: Int32, stderr: String, took: Double) {
        let started = Date()
        let process = launched.0
        DispatchQueue.global().asyncAfter(deadline: .now() + 15) {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let data = launched.1.fileHandleForReading.readDataToEndOfFile()
        launched.0.waitUntilExit()
        return (launched.0.terminationStatus, String(decoding: data, as: UTF8.self), Date().timeIntervalSince(started))
    }

    static func redis(_ server: RedisTestServer, password: String? = nil) throws -> RedisConnection {
        let connection = try RedisConnection(endpoint: .unix(path: server.socketPath))
        if let password { _ = try connection.command(["AUTH", password]) }
        return connection
    }

    @Test func refusedCredentialsAtStartAreAConfigurationError() throws {
        let server = try RedisTestServer(extraArguments: ["--requirepass", "Right-0c1"])
        let socket = server.directory.appendingPathComponent("busd.sock").path
        let base = [
            "--redis", server.url, "--node-id", "cred-node", "--socket", socket, "--http", "off", "--redis-retry-max",
            "100ms",
        ]
        for (name, extra) in [("wrong", ["SOCKETBUS_REDIS_PASSWORD": "Wrong-9f2"]), ("none", [:])] {
            let result = Self.finish(try Self.launch(base, environment: extra))
            #expect(result.status == 78, "\(name): \(result.status) \(result.stderr)")
            #expect(
                result.stderr.contains("redis.password") && result.stderr.contains("refused the credentials"),
                "\(result.stderr)"
            )
            #expect(result.stderr.contains(name == "wrong" ? "WRONGPASS" : "NOAUTH"), "\(result.stderr)")
            #expect(!result.stderr.contains("Wrong-9f2"))
            #expect(result.took < 5, "\(name): took \(result.took) s")
        }
        #expect(try Self.redis(server, password: "Right-0c1").command(["DBSIZE"]) == .integer(0), "nothing written")
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func aPasswordRotatedWhileRunningIsAlertedAsRefusedCredentials() throws {
        let server = try RedisTestServer(extraArguments: ["--requirepass", "First-7a1"])
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let socket = server.directory.appendingPathComponent("busd.sock").path
        let launched = try Self.launch(
            [
                "--redis", server.url, "--node-id", "rot-node", "--socket", socket, "--http", "off",
                "--redis-retry-initial", "50ms", "--redis-retry-max", "200ms", "--alert-grace", "500ms",
                "--alert-role", "always", "--webhook-url", "http://127.0.0.1:\(sink.port)/alerts",
            ],
            environment: ["SOCKETBUS_REDIS_PASSWORD": "First-7a1"]
        )
        defer { if launched.0.isRunning { kill(launched.0.processIdentifier, SIGKILL) } }
        let admin = try Self.redis(server, password: "First-7a1")
        #expect(eventually { (try? admin.command(["EXISTS", "socketbus:node:rot-node"])) == .integer(1) })
        _ = try admin.command(["CONFIG", "SET", "requirepass", "Second-3b2"])
        _ = try admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
        #expect(
            eventually(timeout: .seconds(8)) { Self.alertNames(sink).contains("RedisCredentialsRefused") },
            "\(Self.alertNames(sink))"
        )
        #expect(!Self.alertNames(sink).contains("RedisUnreachable"))
        kill(launched.0.processIdentifier, SIGKILL)
        let result = Self.finish(launched)
        #expect(result.stderr.contains("Redis refused busd's credentials"), "\(result.stderr)")
        // The retries are not news: the error line comes once, "connected" never again.
        let lines = result.stderr.split(separator: "\n")
        #expect(
            lines.filter { $0.contains("refused busd's credentials") && $0.contains("error") }.count == 1,
            "\(result.stderr)"
        )
        #expect(lines.filter { $0.contains("registry mirror connected") }.count <= 1, "\(result.stderr)")
    }

    @Test func aFullRedisIsAlertedAsOutOfMemoryNotUnreachable() throws {
        let server = try RedisTestServer()
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        let socket = server.directory.appendingPathComponent("busd.sock").path
        let launched = try Self.launch([
            "--redis", server.url, "--node-id", "oom-node", "--socket", socket, "--http", "off",
            "--redis-retry-initial", "50ms", "--redis-retry-max", "200ms", "--alert-grace", "500ms",
            "--alert-role", "always", "--webhook-url", "http://127.0.0.1:\(sink.port)/alerts",
        ])
        defer { if launched.0.isRunning { kill(launched.0.processIdentifier, SIGKILL) } }
        let admin = try Self.redis(server)
        #expect(eventually { (try? admin.command(["EXISTS", "socketbus:node:oom-node"])) == .integer(1) })
        #expect(eventually { FileManager.default.fileExists(atPath: socket) })
        let node = try TestNodeClient(path: socket)
        _ = try node.handshake()
        _ = try admin.command(["CONFIG", "SET", "maxmemory", "1"])
        node.send(.socketConnect(namespace: "/", socketId: "oom-socket", connectedAt: 1))
        #expect(
            eventually(timeout: .seconds(8)) { Self.alertNames(sink).contains("RedisOutOfMemory") },
            "\(Self.alertNames(sink))"
        )
        #expect(!Self.alertNames(sink).contains("RedisUnreachable"))
        kill(launched.0.processIdentifier, SIGKILL)
        let result = Self.finish(launched)
        #expect(result.stderr.contains("Redis is out of memory"), "\(result.stderr)")
        #expect(!result.stderr.contains("registry mirror lost Redis"), "\(result.stderr)")
    }

    static func alertNames(_ sink: PythonSink) -> [String] {
        sink.records().compactMap { record in
            guard let body = record["body"] as? String,
                let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                let alerts = json["alerts"] as? [[String: Any]],
                let labels = alerts.first?["labels"] as? [String: String]
            else { return nil }
            return labels["alertname"]
        }
    }

    /// Redis closing busd's connections (CLIENT KILL) over its Unix socket:
    /// the next write is an EPIPE to reconnect from, not a SIGPIPE.
    @Test func aConnectionRedisClosesIsReopenedNotFatal() throws {
        let server = try RedisTestServer()
        let socket = server.directory.appendingPathComponent("busd.sock").path
        let launched = try Self.launch([
            "--redis", "unix://\(server.socketPath)", "--node-id", "kill-node", "--socket", socket, "--http", "off",
            "--liveness-ttl", "1500ms", "--redis-retry-max", "100ms",
        ])
        defer { if launched.0.isRunning { kill(launched.0.processIdentifier, SIGKILL) } }
        let admin = try Self.redis(server)
        #expect(eventually { (try? admin.command(["EXISTS", "socketbus:node:kill-node"])) == .integer(1) })
        for _ in 0..<3 {
            _ = try admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
            _ = try admin.command(["CLIENT", "KILL", "TYPE", "pubsub"])
            Thread.sleep(forTimeInterval: 1)  // past a liveness refresh (every 500 ms)
        }
        #expect(
            launched.0.isRunning,
            "busd ended with status \(launched.0.isRunning ? 0 : launched.0.terminationStatus)"
        )
        #expect(eventually { (try? admin.command(["EXISTS", "socketbus:node:kill-node"])) == .integer(1) })
    }

    @Test func aSecondBusdOnALiveSocketLeavesTheLiveRegistryAlone() throws {
        let first = try DeliveryCommandTests.RunningBusd(extraArguments: ["--http", "off"])
        first.connect("live-socket-1")
        first.connect("live-socket-2")
        #expect(first.waitRegistered("live-socket-2"))
        let redis = try Self.redis(first.server)
        let before = try redis.command(["SMEMBERS", "socketbus:node:web-1:sockets"])
        let socket = first.server.directory.appendingPathComponent("busd.sock").path
        let second = Self.finish(
            try Self.launch(["--redis", first.server.url, "--node-id", "web-1", "--socket", socket, "--http", "off"])
        )
        #expect(second.status != 0)
        #expect(second.stderr.contains("socket.path") && second.stderr.contains("already listens"), "\(second.stderr)")
        // At once, not after the first busd's next refresh.
        #expect(try redis.command(["SMEMBERS", "socketbus:node:web-1:sockets"]) == before)
        #expect(try redis.command(["HEXISTS", "socketbus:owner", "live-socket-1"]) == .integer(1))
        let found = try InspectCommandTests.run(["find-socket", "live-socket-1", "--redis", first.server.url])
        #expect(found.status == 0, "\(found.stderr)")
        #expect(first.process.isRunning)
    }

    @Test func aTakenHTTPPortRefusesTheStartBeforeRedisIsWritten() throws {
        let server = try RedisTestServer()
        let redis = try Self.redis(server)
        _ = try redis.command(["CONFIG", "RESETSTAT"])
        let taken = try StatusPortHolder()
        let socket = server.directory.appendingPathComponent("busd.sock").path
        let result = Self.finish(
            try Self.launch([
                "--redis", server.url, "--node-id", "http-node", "--socket", socket, "--http",
                "127.0.0.1:\(taken.port)",
            ])
        )
        #expect(result.status == 1 && result.stderr.contains("http.listen"), "\(result.stderr)")
        // Not written and removed again: never written.
        let stats = try redis.command(["INFO", "commandstats"]).string ?? ""
        #expect(
            !stats.contains("cmdstat_hset") && !stats.contains("cmdstat_sadd") && !stats.contains("cmdstat_set:"),
            "\(stats)"
        )
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func aDrainWithRedisNeverReachedIsPrompt() throws {
        let deadPort = try FreePort.find()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "busdrain-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appendingPathComponent("busd.sock").path
        let launched = try Self.launch([
            "--redis", "redis://127.0.0.1:\(deadPort)", "--node-id", "lonely", "--socket", socket, "--http", "off",
            "--drain-deadline", "10s", "--redis-timeout", "300ms",
        ])
        #expect(eventually { FileManager.default.fileExists(atPath: socket) })
        let node = try TestNodeClient(path: socket)
        _ = try node.handshake()
        node.send(.socketConnect(namespace: "/", socketId: "s1", connectedAt: 1))
        Thread.sleep(forTimeInterval: 0.5)
        let started = Date()
        launched.0.terminate()
        let result = Self.finish(launched)
        let took = Date().timeIntervalSince(started)
        #expect(took < 3, "took \(took) s of a 10 s deadline")
        #expect(result.status == 0, "\(result.stderr)")
    }
}

/// A listening TCP socket on a free loopback port, held for a test.
final class StatusPortHolder {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
