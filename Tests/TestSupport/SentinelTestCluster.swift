public import Foundation
public import Hiredis
import Glibc

/// A real Sentinel deployment started for a test: a master, a replica
/// (`--replicaof`) and three sentinels (`redis-server <conf> --sentinel`)
/// watching the master under ``masterName``, on free loopback ports, with
/// short fail-over timings (`down-after-milliseconds` 1000).
///
/// Ready once every sentinel knows the replica and the two other sentinels:
/// a fail-over needs both. Everything is killed by ``stop()`` or on release.
public final class SentinelTestCluster: @unchecked Sendable {
    // @unchecked: touched by the owning test only.
    public let masterName: String
    public let master: RedisTestServer
    public let replica: RedisTestServer
    public private(set) var sentinelPorts: [Int] = []
    public let directory: URL
    private var sentinels: [Process] = []
    private let masterPasswordForChecks: String?
    /// Set when every server speaks TLS only (``init(masterName:sentinelPassword:masterPassword:tls:)``).
    public let certificates: TestCertificates?
    /// The ports clients use: the TLS ports with `tls`, else the plain ones.
    public let masterClientPort: Int
    public let replicaClientPort: Int

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `sentinelPassword` makes the sentinels require it (`requirepass`);
    /// `masterPassword` is the master's and the replica's `requirepass`.
    /// `tls`: the master, the replica and the sentinels speak TLS only, with
    /// certificates of that CA, and TLS to each other (`tls-replication`);
    /// their Unix sockets stay plain for the test's own checks. The
    /// certificates are removed with the deployment.
    public init(
        masterName: String = "mymaster",
        sentinelPassword: String? = nil,
        masterPassword: String? = nil,
        tls: TestCertificates? = nil
    ) throws {
        self.masterName = masterName
        // A test writing to a server the fail-over killed gets EPIPE, not a
        // SIGPIPE that ends the whole test process (busd ignores it too).
        signal(SIGPIPE, SIG_IGN)
        masterPasswordForChecks = masterPassword
        certificates = tls
        let auth = masterPassword.map { ["--requirepass", $0, "--masterauth", $0] } ?? []
        if let tls {
            let (masterTLSPort, replicaTLSPort) = (try FreePort.find(), try FreePort.find())
            master = try RedisTestServer(extraArguments: auth + tls.serverArguments(tlsPort: masterTLSPort))
            replica = try RedisTestServer(
                extraArguments: auth + tls.serverArguments(tlsPort: replicaTLSPort) + [
                    "--replicaof", "127.0.0.1", "\(masterTLSPort)",
                ]
            )
            (masterClientPort, replicaClientPort) = (masterTLSPort, replicaTLSPort)
        } else {
            master = try RedisTestServer(extraArguments: auth)
            replica = try RedisTestServer(extraArguments: auth + ["--replicaof", "127.0.0.1", "\(master.port)"])
            (masterClientPort, replicaClientPort) = (master.port, replica.port)
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sentinels-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            for index in 0..<3 {
                try startSentinel(index, sentinelPassword: sentinelPassword, masterPassword: masterPassword)
            }
            try waitUntilDiscovered(sentinelPassword: sentinelPassword)
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// `host:port,host:port,host:port`, for a `redis+sentinel://` URL.
    public var sentinelHosts: String { sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    /// `rediss+sentinel://...?ssl_ca_certs=<the test CA>` with `tls`.
    public var url: String {
        guard let certificates else { return "redis+sentinel://\(sentinelHosts)/\(masterName)" }
        return "rediss+sentinel://\(sentinelHosts)/\(masterName)?ssl_ca_certs=\(certificates.caFile)"
    }

    /// Kills the sentinels, the master and the replica; removes the files.
    public func stop() {
        for process in sentinels where process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        sentinels = []
        master.stop()
        replica.stop()
        try? FileManager.default.removeItem(at: directory)
        certificates?.remove()  // taken over from the caller
    }

    /// Kills the sentinels only: nobody answers where the master is.
    public func killSentinels() {
        for process in sentinels where process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A connection to sentinel `index`, logged in when `password` is given.
    public func sentinel(_ index: Int, password: String? = nil) throws -> RedisConnection {
        let connection = try RedisConnection(
            endpoint: .tcp(host: "127.0.0.1", port: sentinelPorts[index]),
            tls: certificates?.clientTLS
        )
        if let password { _ = try connection.command(["AUTH", password]) }
        return connection
    }

    /// The port of the master the sentinel `index` names now.
    public func masterPort(askingSentinel index: Int = 0, password: String? = nil) throws -> Int? {
        let reply = try sentinel(index, password: password).command([
            "SENTINEL", "get-master-addr-by-name", masterName,
        ])
        return reply.array.flatMap { $0.count == 2 ? $0[1].string.flatMap { Int($0) } : nil }
    }

    private func startSentinel(_ index: Int, sentinelPassword: String?, masterPassword: String?) throws {
        guard let executable = RedisTestServer.which("redis-server") else {
            throw StartError(description: "redis-server is not installed")
        }
        var lastLog = ""
        for _ in 0..<5 {
            let port = try FreePort.find()
            let config = directory.appendingPathComponent("sentinel-\(index).conf")
            var lines = certificates?.configurationLines(tlsPort: port) ?? ["port \(port)"]
            lines += [
                "bind 127.0.0.1", "dir \(directory.path)",
                "logfile \(directory.appendingPathComponent("sentinel-\(index).log").path)",
                "sentinel monitor \(masterName) 127.0.0.1 \(masterClientPort) 2",
                "sentinel down-after-milliseconds \(masterName) 1000",
                "sentinel failover-timeout \(masterName) 4000",
                "sentinel parallel-syncs \(masterName) 1",
            ]
            if let masterPassword { lines.append("sentinel auth-pass \(masterName) \(masterPassword)") }
            if let sentinelPassword {
                // Sentinels that require a password use it with each other too.
                lines += ["requirepass \(sentinelPassword)", "sentinel sentinel-pass \(sentinelPassword)"]
            }
            try (lines.joined(separator: "\n") + "\n").write(to: config, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [config.path, "--sentinel"]
            // Not the runner's output pipe: a sentinel left behind would hold it open.
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            if waitUntilAccepting(port: port, process: process) {
                sentinels.append(process)
                sentinelPorts.append(port)
                return
            }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            lastLog =
                (try? String(
                    contentsOf: directory.appendingPathComponent("sentinel-\(index).log"),
                    encoding: .utf8
                )) ?? ""
        }
        throw StartError(description: "sentinel \(index) did not start: \(lastLog.suffix(500))")
    }

    private func waitUntilAccepting(port: Int, process: Process) -> Bool {
        for _ in 0..<500 {
            if !process.isRunning { return false }
            if (try? RedisConnection(
                endpoint: .tcp(host: "127.0.0.1", port: port),
                timeout: .milliseconds(200),
                tls: certificates?.clientTLS
            )) != nil {
                return true
            }
            usleep(10_000)
        }
        return false
    }

    /// Sentinels find the replica through the master's INFO (every 10 s at
    /// first, at once on start) and each other through hello messages (every 2 s).
    private func waitUntilDiscovered(sentinelPassword: String?) throws {
        let ready = eventually(timeout: .seconds(20)) {
            (0..<3).allSatisfy { index in
                guard let connection = try? sentinel(index, password: sentinelPassword),
                    let replicas = try? connection.command(["SENTINEL", "replicas", masterName]).array,
                    let others = try? connection.command(["SENTINEL", "sentinels", masterName]).array
                else { return false }
                return replicas.count == 1 && others.count == 2
            }
        }
        let linked = eventually(timeout: .seconds(10)) {
            let connection = try? RedisConnection(endpoint: .unix(path: replica.socketPath))
            if let password = masterPasswordForChecks { _ = try? connection?.command(["AUTH", password]) }
            return (try? connection?.command(["INFO", "replication"]).string)??.contains("master_link_status:up")
                == true
        }
        guard linked else { throw StartError(description: "the replica did not link to the master in 10 s") }
        guard ready else {
            throw StartError(description: "the sentinels did not find the replica and each other in 20 s")
        }
    }
}
