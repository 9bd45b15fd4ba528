import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Synchronization
import TestSupport

/// The parts of a Sentinel fail-over test: the Sentinel deployment, the
/// busd binary on its `redis+sentinel://` URL with a node (20 sockets) whose
/// DELIVERs are collected, and the webhook listener busd alerts to.
final class FailoverRun: @unchecked Sendable {
    let cluster: SentinelTestCluster
    let sink: PythonSink
    let process = Process()
    let node: TestNodeClient
    let httpAddress: String
    let grace: Duration
    let keys = RegistryKeys()
    private let seen = Mutex<Set<Int>>([])
    private let stopping = Atomic<Bool>(false)
    private let readerDone = DispatchSemaphore(value: 0)
    let logPath: String

    /// `tls`: every server and sentinel speaks TLS only (a test CA), busd on `rediss+sentinel://`.
    init(grace: String, sockets: Int = 20, tls: Bool = false) throws {
        self.grace = try Self.parse(grace)
        cluster = try SentinelTestCluster(tls: tls ? TestCertificates() : nil)
        sink = try PythonSink(script: "http_sink.py", arguments: [])
        httpAddress = "127.0.0.1:\(try FreePort.find())"
        logPath = cluster.directory.appendingPathComponent("busd.log").path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        let socketPath = cluster.directory.appendingPathComponent("busd.sock").path
        process.executableURL = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
        process.arguments = [
            "--redis", cluster.url, "--node-id", "web-1", "--log-level", "info", "--socket", socketPath,
            "--http", httpAddress, "--webhook-url", "http://127.0.0.1:\(sink.port)/hook", "--alert-grace", grace,
            "--alert-role", "always", "--ack-policy", "none", "--redis-timeout", "500ms",
        ]
        try process.run()
        do {
            var connected: TestNodeClient?
            guard
                eventually({
                    connected = try? TestNodeClient(path: socketPath)
                    return connected != nil
                }), let connected
            else { throw POSIXError(.ECONNREFUSED) }
            node = connected
            _ = try node.handshake()
        } catch {
            process.terminate()
            process.waitUntilExit()
            throw error
        }
        for n in 0..<sockets { connect("s-\(n)") }
        let master = try RedisConnection(endpoint: .unix(path: cluster.master.socketPath))
        guard eventually(timeout: .seconds(10), { registry(on: master).count == sockets }) else {
            stop()
            throw POSIXError(.ETIMEDOUT)
        }
        Thread.detachNewThread { [self] in
            readDelivers()
            readerDone.signal()
        }
    }

    private static func parse(_ text: String) throws -> Duration {
        guard text.hasSuffix("s"), let seconds = Int(text.dropLast()) else { throw POSIXError(.EINVAL) }
        return .seconds(seconds)
    }

    func connect(_ id: String) {
        node.send(
            .socketConnect(namespace: "/", socketId: id, connectedAt: UInt64(Date().timeIntervalSince1970 * 1000))
        )
        node.send(.socketJoin(namespace: "/", socketId: id, rooms: [id]))
    }

    /// The tick numbers the node was handed.
    var received: Set<Int> { seen.withLock { $0 } }

    private func readDelivers() {
        while !stopping.load(ordering: .relaxed) {
            guard let frame = try? node.receive(timeout: .milliseconds(100)) else { continue }
            guard case .deliver(_, _, _, _, let packet, _) = frame else { continue }
            // 2["tick",<n>]
            let text = String(decoding: packet, as: UTF8.self)
            guard let range = text.range(of: "\"tick\",") else { continue }
            if let n = Int(text[range.upperBound...].prefix { $0.isNumber }) { _ = seen.withLock { $0.insert(n) } }
        }
    }

    /// web-1's sockets in Redis: its socket set, each with an owner entry
    /// naming web-1; a socket in one and not the other shows as `mismatch:<id>`.
    func registry(on connection: RedisConnection) -> Set<String> {
        guard let members = try? connection.command(["SMEMBERS", keys.sockets(of: "web-1")]).array,
            let all = try? connection.command(["HGETALL", keys.owner]).array
        else { return ["unreadable"] }
        let set = Set(members.compactMap(\.string))
        var owned: Set<String> = []
        for index in stride(from: 0, to: all.count - 1, by: 2) {
            if let id = all[index].string, all[index + 1].string?.hasPrefix("web-1\t") == true { owned.insert(id) }
        }
        return set.intersection(owned).union(set.symmetricDifference(owned).map { "mismatch:\($0)" })
    }

    /// A counter from busd's /metrics (through `busctl status --raw`).
    func metric(_ name: String) -> Int? {
        guard let result = try? InspectCommandTests.run(["status", "--http", httpAddress, "--raw"]) else { return nil }
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    func stop() {
        if stopping.exchange(true, ordering: .relaxed) { return }
        _ = readerDone.wait(timeout: .now() + 2)
        if process.isRunning {
            process.interrupt()
            process.waitUntilExit()
        }
        sink.stop()
        cluster.stop()
    }

    deinit { stop() }
}

/// Publishes `2["tick",n]` broadcasts to the adapter channel at a steady
/// rate through the sentinels (its own connection, re-resolved when it
/// fails), counting what Redis handed to a subscriber.
final class SteadyPublisher: @unchecked Sendable {
    struct Figures: Sendable {
        var sent = 0
        /// PUBLISH answered with one receiver or more.
        var accepted = 0
        /// PUBLISH answered 0: nobody subscribed on that master then.
        var unheard = 0
        /// PUBLISH failed (the master went away under it).
        var failed = 0
        var acceptedSequence: Set<Int> = []
    }

    let url: String
    let interval: TimeInterval
    private let state = Mutex(Figures())
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    init(url: String, interval: TimeInterval) {
        self.url = url
        self.interval = interval
    }

    var figures: Figures { state.withLock { $0 } }

    func start() {
        started.store(true, ordering: .relaxed)
        Thread.detachNewThread { [self] in
            run()
            done.signal()
        }
    }

    func stop() {
        guard started.load(ordering: .relaxed), !stopping.exchange(true, ordering: .relaxed) else { return }
        _ = done.wait(timeout: .now() + 3)
    }

    private func run() {
        guard let redis = try? RedisConfiguration(url: url) else { return }
        var connection: RedisConnection?
        var sequence = 0
        while !stopping.load(ordering: .relaxed) {
            // Asks the sentinels again every 100 messages (0.5 s at 200/s), as
            // a client that follows fail-overs would, without a watcher of its own.
            if sequence % 100 == 0 { connection = nil }
            if connection == nil {
                connection = try? redis.connect(timeout: .milliseconds(300))
                if connection == nil {
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
            }
            sequence += 1
            let message = BroadcastMessage(
                uid: "pubr01",
                data: [.string("tick"), .number(Double(sequence))],
                namespace: "/"
            )
            do {
                let reply = try connection?.command([
                    Array("PUBLISH".utf8), Array(message.channel().name.utf8), try message.encode(),
                ])
                let receivers = reply?.integer ?? 0
                state.withLock {
                    $0.sent += 1
                    if receivers > 0 {
                        $0.accepted += 1
                        $0.acceptedSequence.insert(sequence)
                    } else {
                        $0.unheard += 1
                    }
                }
            } catch {
                state.withLock {
                    $0.sent += 1
                    $0.failed += 1
                }
                connection = nil
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}
