import Foundation
import Testing
import TestSupport

/// The threads that mostly wait (busd-requests, busd-acks, busd-numsub,
/// busd-sentinel) are watched too: idle, they beat on their own wake-ups;
/// parked at a beat (BUSD_TEST_PARK_THREAD, debug builds), the watchdog
/// stops pinging and names them.
@Suite("busd watchdog follows its waiting threads", .serialized)
struct WatchdogQuietThreadsTests {
    /// busd on `redisURL` with `thread` parked while `park` exists: idle
    /// pings first (no thread reported), then the park, then the report.
    static func parkAndExpectReport(thread: String, redisURL: String, directory: URL) throws {
        let park = directory.appendingPathComponent("park-\(thread)").path
        let notify = try NotifySocket()
        let socketPath = directory.appendingPathComponent("busd-\(thread).sock").path
        let busd = try CollectedBusd(
            arguments: [
                "--redis", redisURL, "--node-id", "web-\(thread)", "--http", "off", "--log-level", "info",
                "--socket", socketPath, "--ack-policy", "all",
            ],
            environment: [
                "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000", "BUSD_TEST_PARK_THREAD": "\(thread):\(park)",
            ]
        )
        defer {
            unlink(park)
            busd.stop()
        }
        var seen: [String] = []
        #expect(notify.wait(for: "READY=1", timeout: 15, seen: &seen) != nil, "\(busd.stderr)")
        #expect(
            WatchdogThreadsTests.threads(busd.process.processIdentifier).contains(thread),
            "no thread \(thread):\n\(WatchdogThreadsTests.threads(busd.process.processIdentifier))"
        )
        // Longer than the stall bound (2 s): the thread beats while it waits.
        let idle = WatchdogThreadsTests.pings(notify, during: 3)
        #expect(idle >= 6, "pings in 3 s while idle: \(idle)\n\(busd.stderr)")
        #expect(!busd.stderr.contains("made no progress"), "\(busd.stderr)")

        FileManager.default.createFile(atPath: park, contents: Data())
        var reported = false
        let deadline = Date().addingTimeInterval(8)
        while !reported && Date() < deadline {
            _ = WatchdogThreadsTests.pings(notify, during: 0.2)
            reported = busd.stderr.contains("made no progress")
        }
        let line = busd.lines.first { $0.contains("made no progress") } ?? ""
        #expect(reported && line.contains("\(thread) (silent "), "\(busd.stderr)")
        _ = WatchdogThreadsTests.pings(notify, during: 0.3)
        #expect(WatchdogThreadsTests.pings(notify, during: 1.5) == 0, "no ping while \(thread) is stuck")

        unlink(park)
        #expect(WatchdogThreadsTests.pings(notify, during: 2) >= 3, "\(busd.stderr)")
    }

    @Test(arguments: ["busd-requests", "busd-acks", "busd-numsub"])
    func aParkedThreadStopsThePings(thread: String) throws {
        let server = try RedisTestServer()
        defer { server.stop() }
        try Self.parkAndExpectReport(thread: thread, redisURL: server.url, directory: server.directory)
    }

    @Test func aParkedSentinelWatcherStopsThePings() throws {
        let cluster = try SentinelTestCluster()
        defer { cluster.stop() }
        try Self.parkAndExpectReport(thread: "busd-sentinel", redisURL: cluster.url, directory: cluster.directory)
    }
}
