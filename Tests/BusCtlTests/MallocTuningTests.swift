import Foundation
import LocalProtocol
import Testing
import TestSupport

/// busd limits glibc's malloc arenas to two itself and fixes the mmap
/// threshold (its RSS stays flat under load, bench/README.md), and an explicit
/// MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ wins: the arenas read from
/// outside, on the real binary, through `socketbus_malloc_arenas`; the
/// threshold (which glibc does not report) from busd's start line, which
/// names it set only when mallopt took it.
@Suite("busd's malloc tuning", .serialized)
struct MallocTuningTests {
    /// busd with a node connected (its reader and writer threads running),
    /// scraped once every thread has allocated: the arenas and the start line.
    static func arenas(environment: [String: String]) throws -> (arenas: Double?, started: String) {
        let server = try RedisTestServer()
        defer { server.stop() }
        let socketPath = server.directory.appendingPathComponent("busd.sock").path
        let port = try FreePort.find()
        let busd = try CollectedBusd(
            arguments: [
                "--redis", server.url, "--node-id", "web-arenas", "--http", "127.0.0.1:\(port)",
                "--log-level", "info", "--socket", socketPath,
            ],
            environment: environment
        )
        defer { busd.stop() }
        #expect(eventually(timeout: .seconds(10)) { busd.stderr.contains("busd started") }, "\(busd.stderr)")
        let node = try TestNodeClient(path: socketPath)
        _ = try node.handshake()
        node.send(.socketConnect(namespace: "/", socketId: "sock-arenas", connectedAt: 1))
        // Threads that wake on timers (liveness, numsub, the mirror) allocate within a second or two.
        Thread.sleep(forTimeInterval: 2.5)
        let page = try MetricsExpositionTests.scrape("127.0.0.1:\(port)")
        let started = busd.lines.first { $0.contains("busd started") } ?? ""
        return (page.value("socketbus_malloc_arenas"), started)
    }

    @Test func busdLimitsItsArenasToTwo() throws {
        let (arenas, started) = try Self.arenas(environment: [:])
        let count = try #require(arenas, "no socketbus_malloc_arenas")
        #expect(count >= 1 && count <= 2, "arenas: \(count)")
        #expect(started.contains("at most 2 malloc arenas; mmap threshold fixed at 131072 B"), "\(started)")
    }

    /// The operator's MALLOC_ARENA_MAX is left as it is: with 16, busd's
    /// threads get arenas of their own, as they would without busd's limit.
    @Test func anExplicitMallocArenaMaxWins() throws {
        let (arenas, started) = try Self.arenas(environment: ["MALLOC_ARENA_MAX": "16"])
        let count = try #require(arenas, "no socketbus_malloc_arenas")
        #expect(count >= 3, "arenas: \(count)")
        #expect(started.contains("malloc arenas as MALLOC_ARENA_MAX says; mmap threshold fixed at"), "\(started)")
    }

    @Test func anExplicitThresholdWinsInTheEnvironmentOrTheTunables() throws {
        let (arenas, started) = try Self.arenas(environment: ["MALLOC_MMAP_THRESHOLD_": "262144"])
        #expect(arenas.map { $0 <= 2 } == true, "arenas: \(String(describing: arenas))")
        #expect(started.contains("at most 2 malloc arenas; mmap threshold as MALLOC_MMAP_THRESHOLD_ says"), "\(started)")
        let (_, tuned) = try Self.arenas(environment: ["GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=262144"])
        #expect(tuned.contains("mmap threshold as GLIBC_TUNABLES says"), "\(tuned)")
    }
}
