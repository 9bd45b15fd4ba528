import BusCore
import Foundation
import Hiredis
import Logging
import Testing
import TestSupport

/// busctl against a Redis that wants a password: an error reply is an
/// error (exit 4, naming it), never "nothing there"; and the password is
/// found where busd finds it.
@Suite("busctl with Redis credentials", .serialized)
struct RedisCredentialsTests {
    static let password = "Pw-7f3a9c"
    /// No SOCKETBUS_* variable of the test run leaks into busctl.
    static let bareEnvironment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]

    static func run(_ arguments: [String], _ environment: [String: String] = [:]) throws -> InspectCommandTests.Result {
        try InspectCommandTests.run(arguments, environment: bareEnvironment.merging(environment) { $1 })
    }

    /// A server with a password and one registered node.
    static func serverWithNode() throws -> (RedisTestServer, ClusterMember) {
        let server = try RedisTestServer(extraArguments: ["--requirepass", password])
        var configuration = ClusterMember.Configuration(
            redis: try RedisConfiguration(url: "redis://:\(password)@127.0.0.1:\(server.port)"),
            nodeId: "pw-node"
        )
        configuration.cleanupInterval = .seconds(60)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let member = ClusterMember(configuration: configuration, logger: logger) { _ in }
        member.start()
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        #expect(eventually { member.registryRewrites > 0 && member.pendingRegistryWrites == 0 })
        return (server, member)
    }

    @Test func errorRepliesAreNeverReadAsEmpty() throws {
        let (server, member) = try Self.serverWithNode()
        defer { member.stop(leave: false) }
        let url = server.url  // no password
        let cases: [(args: [String], emptyLooking: String)] = [
            (["nodes", "--redis", url], "no nodes registered"),
            (["nodes", "--json", "--redis", url], "[]"),
            (["emit", "x", "1", "--redis", url], "published"),
            (["acks", "m1", "--redis", url], "no delivery records"),
            (["find-socket", "AgUEon6wzXtHqqioAAAB", "--redis", url], "not found"),
        ]
        for (args, emptyLooking) in cases {
            let result = try Self.run(args)
            #expect(result.status == 4, "\(args): \(result.status) \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("NOAUTH"), "\(args): \(result.stderr)")
            #expect(
                result.stderr.contains("refused the credentials") && result.stderr.contains("none was given"),
                "\(result.stderr)"
            )
            #expect(
                !(result.stdout + result.stderr).contains(emptyLooking),
                "\(args): \(result.stdout) \(result.stderr)"
            )
        }
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() throws {
        let (server, member) = try Self.serverWithNode()
        defer { member.stop(leave: false) }
        let result = try Self.run(["nodes", "--redis", server.url], ["SOCKETBUS_REDIS_PASSWORD": "Wrong-e81d"])
        #expect(result.status == 4)
        #expect(
            result.stderr.contains("WRONGPASS") && result.stderr.contains("SOCKETBUS_REDIS_PASSWORD"),
            "\(result.stderr)"
        )
        #expect(!result.stderr.contains("Wrong-e81d"))
    }

    @Test func thePasswordIsReadFromTheEnvironmentAFileAndTheConfig() throws {
        let (server, member) = try Self.serverWithNode()
        defer { member.stop(leave: false) }
        let passwordFile = server.directory.appendingPathComponent("redis.pw")
        try "\(Self.password)\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        let config = server.directory.appendingPathComponent("busd.yaml")
        try """
        redis:
          url: \(server.url)
          password_file: \(passwordFile.path)
          prefix: socketbus
        """.write(to: config, atomically: true, encoding: .utf8)
        let deadURL = "redis://127.0.0.1:\(try FreePort.find())"
        let deadConfig = server.directory.appendingPathComponent("dead.yaml")
        try "redis:\n  url: \(deadURL)\n".write(to: deadConfig, atomically: true, encoding: .utf8)

        let ways: [(String, [String], [String: String])] = [
            ("environment", ["--redis", server.url], ["SOCKETBUS_REDIS_PASSWORD": Self.password]),
            ("flag file", ["--redis", server.url, "--redis-password-file", passwordFile.path], [:]),
            ("environment file", ["--redis", server.url], ["SOCKETBUS_REDIS_PASSWORD_FILE": passwordFile.path]),
            ("--config", ["--config", config.path], [:]),
            ("SOCKETBUS_CONFIG", [], ["SOCKETBUS_CONFIG": config.path]),
            // Precedence: the environment beats the file, a flag beats the environment.
            (
                "env over file", ["--config", deadConfig.path],
                ["SOCKETBUS_REDIS_URL": server.url, "SOCKETBUS_REDIS_PASSWORD": Self.password]
            ),
            (
                "flag over env", ["--redis", server.url],
                ["SOCKETBUS_REDIS_URL": deadURL, "SOCKETBUS_REDIS_PASSWORD": Self.password]
            ),
        ]
        for (name, args, environment) in ways {
            let result = try Self.run(["nodes", "--json"] + args, environment)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(result.stdout.contains("pw-node"), "\(name): \(result.stdout)")
            let found = try Self.run(["find-socket", "AgUEon6wzXtHqqioAAAB"] + args, environment)
            #expect(found.status == 0, "\(name): \(found.stderr)")
        }
    }

    @Test func passwordsNeverShowInErrors() throws {
        let marker = "Mk-51d0e2"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "busredact-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let yaml = directory.appendingPathComponent("broken.yaml")
        // A syntax error on the line that holds the password (Yams quotes that line).
        try "redis:\n  url: redis://:\(marker)@127.0.0.1:6379: x\n  prefix: x\n".write(
            to: yaml,
            atomically: true,
            encoding: .utf8
        )
        let busd = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
        let socket = directory.appendingPathComponent("b.sock").path
        let urls = [
            "unix://relative/redis.sock?password=\(marker)",
            "redis://127.0.0.1/0?password=\(marker)",
            "redis://:\(marker)@127.0.0.1:99999/0",
            "redis://:\(marker)@127.0.0.1/x",
            "http://:\(marker)@127.0.0.1",
        ]
        var runs: [(String, InspectCommandTests.Result)] = []
        for url in urls {
            runs.append(("busctl \(url)", try Self.run(["nodes", "--redis", url])))
            runs.append(
                (
                    "busd \(url)",
                    try InspectCommandTests.run(
                        ["--redis", url, "--socket", socket],
                        executable: busd,
                        environment: Self.bareEnvironment
                    )
                )
            )
        }
        runs.append(("busctl yaml", try Self.run(["nodes", "--config", yaml.path])))
        runs.append(
            (
                "busd yaml",
                try InspectCommandTests.run(
                    ["--config", yaml.path, "--socket", socket],
                    executable: busd,
                    environment: Self.bareEnvironment
                )
            )
        )
        for (name, result) in runs {
            #expect(result.status != 0, "\(name)")
            #expect(!result.stderr.isEmpty, "\(name)")
            #expect(!(result.stdout + result.stderr).contains(marker), "\(name): \(result.stderr)")
        }
        // The YAML error still says where.
        #expect(runs.last?.1.stderr.contains("line 2") == true, "\(runs.last?.1.stderr ?? "")")
    }
}
