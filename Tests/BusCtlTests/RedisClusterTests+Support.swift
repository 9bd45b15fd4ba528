import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Synchronization
import TestSupport

/// A busd process on a cluster URL with a node connected, its log in a file.
final class ClusterBusd: @unchecked Sendable {
    // @unchecked: `node` is used by the test thread until the receiver thread takes it over.
    let process = Process()
    let node: TestNodeClient
    let log: BusdLog
    private let receiving = Atomic<Bool>(true)

    init(url: String, directory: URL, logLevel: String = "error") throws {
        let name = "busd-\(UUID().uuidString.prefix(8))"
        let socketPath = directory.appendingPathComponent("\(name).sock").path
        log = BusdLog(path: directory.appendingPathComponent("\(name).log").path)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log.path)
        process.executableURL = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
        process.arguments = [
            "--redis", url, "--node-id", "web-c", "--log-level", logLevel, "--socket", socketPath,
            "--http", "off",
        ]
        try process.run()
        do {
            var connected: TestNodeClient?
            guard
                eventually(
                    timeout: .seconds(10),
                    {
                        connected = try? TestNodeClient(path: socketPath)
                        return connected != nil
                    }
                ), let connected
            else { throw POSIXError(.ECONNREFUSED) }
            node = connected
            _ = try node.handshake()
        } catch {
            process.interrupt()
            process.waitUntilExit()
            throw error
        }
    }

    func connect(_ socketId: String) {
        node.send(
            .socketConnect(namespace: "/", socketId: socketId, connectedAt: UInt64(Date().timeIntervalSince1970 * 1000))
        )
        node.send(.socketJoin(namespace: "/", socketId: socketId, rooms: [socketId]))
    }

    /// Reads DELIVER frames until ``stopReceiving()``, recording each `tick` number.
    func receive(into load: Load) {
        while receiving.load(ordering: .relaxed) {
            guard let frame = try? node.receive(timeout: .milliseconds(200)) else { continue }
            if case .deliver(_, _, _, _, let packet, _) = frame, let seq = Load.sequence(in: packet) {
                load.received(seq)
            }
        }
    }

    func stopReceiving() { receiving.store(false, ordering: .relaxed) }

    deinit {
        process.interrupt()
        process.waitUntilExit()
    }
}

/// busd's standard error, searched for log lines.
struct BusdLog: Sendable {
    let path: String

    var text: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func count(_ text: String) -> Int {
        let content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return content.components(separatedBy: text).count - 1
    }

    /// When the `count`-th line holding `text` was seen (polled every 10 ms); nil after `timeout`.
    func waitFor(_ text: String, count: Int, timeout: Duration) -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if self.count(text) >= count { return .now }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }
}

/// Numbered broadcasts (`io.emit("tick", n)` as a stock node publishes it)
/// PUBLISHed on one node, and which of them the node received.
final class Load: Sendable {
    struct Published: Sendable {
        var seq: Int
        var at: ContinuousClock.Instant
    }

    struct Outcome {
        var published: [Published]
        var received: Set<Int>
        var failures: Int
    }

    private let port: Int
    private let stopping = Atomic<Bool>(false)
    private let state = Mutex((published: [Published](), received: Set<Int>(), failures: 0))

    init(publishTo port: Int) {
        self.port = port
    }

    func publish() {
        var connection: RedisConnection?
        var seq = 0
        while !stopping.load(ordering: .relaxed) {
            seq += 1
            do {
                if connection == nil { connection = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port)) }
                let payload = try BroadcastMessage(
                    uid: "loadpb",
                    data: [.string("tick"), .number(Double(seq))],
                    namespace: "/"
                )
                .encode()
                _ = try connection?.command([Array("PUBLISH".utf8), Array("socket.io#/#".utf8), payload])
                state.withLock { $0.published.append(Published(seq: seq, at: .now)) }
            } catch {
                connection = nil
                state.withLock { $0.failures += 1 }
            }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    func received(_ seq: Int) { state.withLock { _ = $0.received.insert(seq) } }

    func outcome() -> Outcome {
        state.withLock { Outcome(published: $0.published, received: $0.received, failures: $0.failures) }
    }

    /// n from a packet `2["tick",n]`.
    static func sequence(in packet: [UInt8]) -> Int? {
        let text = String(decoding: packet, as: UTF8.self)
        guard let range = text.range(of: "\"tick\",") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }
}
