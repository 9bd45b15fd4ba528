public import Foundation
import Glibc

/// A real Redis Cluster for tests: three masters and three replicas
/// (`redis-server --cluster-enabled yes`, joined by `redis-cli --cluster
/// create --cluster-replicas 1`) on free loopback ports, each in a private
/// directory, without persistence, node time-out 1 s so that a fail-over
/// takes a few seconds. Start one per suite (that is the slow part, ~2 s);
/// every node is killed by ``stop()`` or when the value is released.
public final class RedisClusterTestServer: @unchecked Sendable {
    // @unchecked: the processes are touched by the owning suite only, one test at a time.
    public let ports: [Int]
    public let directory: URL
    private var processes: [Int: Process] = [:]
    /// Set when the nodes speak TLS only, the cluster bus included; `ports` are then TLS ports.
    public let certificates: TestCertificates?

    public enum StartError: Error, CustomStringConvertible {
        case notInstalled(String)
        case didNotStart(String)

        public var description: String {
            switch self {
            case .notInstalled(let tool): return "\(tool) is not installed"
            case .didNotStart(let detail): return "the Redis Cluster did not start: \(detail)"
            }
        }
    }

    /// `replicas`: per master (`--cluster-replicas`); `nodes` must allow it.
    /// `tls`: every node speaks TLS only (`--port 0`, `tls-cluster yes`), with
    /// certificates of that CA, removed with the cluster.
    public init(nodes: Int = 6, replicas: Int = 1, tls: TestCertificates? = nil) throws {
        certificates = tls
        guard let server = RedisTestServer.which("redis-server") else { throw StartError.notInstalled("redis-server") }
        guard RedisTestServer.which("redis-cli") != nil else { throw StartError.notInstalled("redis-cli") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "buscluster-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var ports: [Int] = []
        while ports.count < nodes {
            let port = Int.random(in: 20000..<45000)
            if !ports.contains(port), !ports.contains(port + 10000), !ports.contains(port - 10000),
                Self.isFree(port), Self.isFree(port + 10000)
            {
                ports.append(port)
            }
        }
        self.ports = ports
        do {
            for port in ports {
                let nodeDirectory = directory.appendingPathComponent("\(port)")
                try FileManager.default.createDirectory(at: nodeDirectory, withIntermediateDirectories: true)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: server)
                process.arguments = [
                    "--port", "\(port)", "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                    "--cluster-config-file", nodeDirectory.appendingPathComponent("nodes.conf").path,
                    "--cluster-node-timeout", "1000", "--save", "", "--appendonly", "no",
                    // Replicas in sync at once (7.0 waits 5 s for more replicas by default):
                    // a replica that never synced cannot take over.
                    "--repl-diskless-sync-delay", "0",
                    "--dir", nodeDirectory.path, "--logfile", nodeDirectory.appendingPathComponent("redis.log").path,
                ]
                process.arguments? += tls?.clusterNodeArguments(tlsPort: port) ?? []
                try process.run()
                processes[port] = process
            }
            for port in ports {
                guard eventually(timeout: .seconds(5), { (try? self.cli(port, ["PING"])) == "PONG" }) else {
                    throw StartError.didNotStart("node \(port) does not answer")
                }
            }
            let create = try Self.run(
                (tls?.cliArguments ?? []) + ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + [
                    "--cluster-replicas", "\(replicas)", "--cluster-yes",
                ]
            )
            guard create.status == 0 else { throw StartError.didNotStart(String(create.output.suffix(800))) }
            guard waitUntilHealthy(timeout: .seconds(20)) else {
                throw StartError.didNotStart("cluster_state never became ok on every node")
            }
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// A URL of one node (`rediss://...?ssl_ca_certs=<the test CA>` with TLS).
    public func url(_ port: Int) -> String {
        guard let certificates else { return "redis://127.0.0.1:\(port)" }
        return "rediss://127.0.0.1:\(port)?ssl_ca_certs=\(certificates.caFile)"
    }

    /// Every node answers `cluster_state:ok` and agrees on the slots (three
    /// masters), and every replica is in sync with its master.
    public func waitUntilHealthy(timeout: Duration = .seconds(20)) -> Bool {
        eventually(timeout: timeout) {
            livePorts.allSatisfy { port in
                ((try? self.cli(port, ["CLUSTER", "INFO"])) ?? "").contains("cluster_state:ok")
            } && livePorts.allSatisfy { (try? self.masterPorts(askingNode: $0).count) == 3 }
                && livePorts.allSatisfy { port in
                    let info = (try? self.cli(port, ["INFO", "replication"])) ?? ""
                    return info.contains("role:master") || info.contains("master_link_status:up")
                }
        }
    }

    public var livePorts: [Int] { ports.filter { processes[$0]?.isRunning == true } }

    /// The ports of the masters that serve slots, as `port` sees them.
    public func masterPorts(askingNode port: Int) throws -> [Int] {
        let text = try cli(port, ["CLUSTER", "NODES"])
        return text.split(separator: "\n").compactMap { line -> Int? in
            let fields = line.split(separator: " ")
            guard fields.count >= 9, fields[2].contains("master"), !fields[2].contains("fail") else { return nil }
            let address = fields[1].split(separator: "@").first ?? ""
            return address.split(separator: ":").last.flatMap { Int($0) }
        }.sorted()
    }

    /// The port of the master serving `slot`, as `port` sees it.
    public func masterPort(ofSlot slot: Int, askingNode port: Int) throws -> Int? {
        let text = try cli(port, ["CLUSTER", "NODES"])
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 9, fields[2].contains("master"), !fields[2].contains("fail") else { continue }
            for range in fields[8...] {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first, slot >= low, slot <= (bounds.last ?? low) {
                    return (fields[1].split(separator: "@").first ?? "").split(separator: ":").last.flatMap { Int($0) }
                }
            }
        }
        return nil
    }

    /// The node id `port` has of itself.
    public func nodeId(_ port: Int) throws -> String {
        try cli(port, ["CLUSTER", "MYID"])
    }

    /// Kills one node abruptly (SIGKILL).
    public func kill(port: Int) {
        guard let process = processes.removeValue(forKey: port) else { return }
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public func stop() {
        for port in Array(processes.keys) { kill(port: port) }
        try? FileManager.default.removeItem(at: directory)
        certificates?.remove()
    }

    /// `redis-cli -p port args...`; the reply's text without the trailing newline.
    @discardableResult
    public func cli(_ port: Int, _ arguments: [String]) throws -> String {
        let tlsOptions = certificates?.cliArguments ?? []
        let result = try Self.run(tlsOptions + ["-h", "127.0.0.1", "-p", "\(port)"] + arguments)
        return result.output.trimmingCharacters(in: .newlines)
    }

    /// Nothing listens on `port` (a node also takes port + 10000 for the
    /// cluster bus, so its port must be at most 55535: not an ephemeral one).
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RedisTestServer.which("redis-cli") ?? "/usr/bin/redis-cli")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
