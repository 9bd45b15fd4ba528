import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// After a stall's backlog has drained, busd calls malloc_trim, once. On the
/// real binary with a real redis-server; the stall is the router parked (a
/// debug build's BUSD_TEST_PARK_THREAD) while Redis sends 27 MB and the node
/// joins rooms. The resident memory is printed, not asserted: here glibc
/// gives most of it back by itself, and how much stays depends on which
/// buffer kept its capacity (nearly all given back in most runs, 32 of 36 MB
/// kept once); the effect under load is in bench/README.md.
@Suite("busd's malloc trim", .serialized)
struct MallocTrimTests {
    static func residentBytes(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
    }

    /// `total` messages of ~450 B to `room` in pipelines of `step`, and
    /// between two pipelines `joins` rooms of new names joined by `socket`
    /// (small blocks busd keeps, among the backlog's).
    static func publish(
        _ total: Int, to room: String, port: Int, step: Int, node: TestNodeClient, joins: Int
    ) throws {
        let redis = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port))
        let padding = String(repeating: "x", count: 400)
        var published = 0
        while published < total {
            var commands: [[[UInt8]]] = []
            for n in published..<min(total, published + step) {
                let message = BroadcastMessage(
                    uid: "emitter", data: [.string("tick"), .number(Double(n)), .string(padding)], namespace: "/",
                    rooms: [.name(room)])
                commands.append([Array("PUBLISH".utf8), Array(message.channel().name.utf8), try message.encode()])
            }
            _ = try redis.pipeline(commands)
            if joins > 0 {
                let rooms = (0..<joins).map { "a-room-with-a-long-name-\(published)-\($0)" }
                node.send(.socketJoin(namespace: "/", socketId: room, rooms: rooms))
            }
            published += commands.count
        }
    }

    @Test func aDrainedBacklogIsTrimmedOnce() throws {
        let server = try RedisTestServer()
        defer { server.stop() }
        let park = server.directory.appendingPathComponent("park-router").path
        let socketPath = server.directory.appendingPathComponent("busd.sock").path
        let port = try FreePort.find()
        let address = "127.0.0.1:\(port)"
        let busd = try CollectedBusd(
            arguments: [
                "--redis", server.url, "--node-id", "web-trim", "--http", address, "--log-level", "debug",
                "--socket", socketPath, "--ack-policy", "none",
            ],
            environment: ["BUSD_TEST_PARK_THREAD": "busd-router:\(park)"]
        )
        defer {
            unlink(park)
            busd.stop()
        }
        #expect(eventually(timeout: .seconds(10)) { busd.stderr.contains("busd started") }, "\(busd.stderr)")
        let node = try TestNodeClient(path: socketPath)
        _ = try node.handshake()
        node.send(.socketConnect(namespace: "/", socketId: "trim-a", connectedAt: 1))
        node.send(.socketJoin(namespace: "/", socketId: "trim-a", rooms: ["trim-a"]))
        #expect(eventually { (try? InspectCommandTests.run(["find-socket", "trim-a", "--redis", server.url]))?.status == 0 })
        let total = 60_000
        Thread.sleep(forTimeInterval: 1)
        let pid = busd.process.processIdentifier
        let before = Self.residentBytes(pid)

        // The router stops at its next beat (within its 1 s idle wake-up);
        // what Redis sends meanwhile waits in the subscriber's backlog.
        FileManager.default.createFile(atPath: park, contents: Data())
        Thread.sleep(forTimeInterval: 1.5)
        try Self.publish(total, to: "trim-a", port: server.port, step: 200, node: node, joins: 20)
        #expect(eventually(timeout: .seconds(30)) {
            (try? MetricsExpositionTests.scrape(address))?.value("socketbus_subscriber_backlog_bytes") ?? 0 > 20_000_000
        })
        let peak = Self.residentBytes(pid)
        unlink(park)
        var delivered = 0
        while delivered < total, let frame = try node.receive(timeout: .seconds(30)) {
            if case .deliver = frame { delivered += 1 }
        }
        #expect(delivered == total)
        // Drained: the trimmer reads the backlog once a second.
        #expect(eventually(timeout: .seconds(5)) {
            (try? MetricsExpositionTests.scrape(address))?.value("socketbus_malloc_trims_total") ?? 0 >= 1
        }, "\(busd.lines.filter { $0.contains("malloc") })")
        Thread.sleep(forTimeInterval: 2)
        let after = Self.residentBytes(pid)
        let mb = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1e6) }
        print("malloc trim: VmRSS before \(mb(before)), at the peak \(mb(peak)), after \(mb(after))")
        #expect(peak - before > 16_000_000, "the backlog did not grow busd: \(mb(before)) → \(mb(peak))")
        // Once per drain: an idle busd does not trim again.
        let trims = try MetricsExpositionTests.scrape(address).value("socketbus_malloc_trims_total")
        #expect(trims == 1, "\(busd.lines.filter { $0.contains("malloc") })")
    }
}
