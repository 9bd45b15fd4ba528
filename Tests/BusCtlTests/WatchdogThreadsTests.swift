import Foundation
import Testing
import TestSupport

/// The watchdog pings only while busd's long-lived threads make progress:
/// the test plays systemd with its own `$NOTIFY_SOCKET`, and stalls the
/// router thread with the debug-build hook BUSD_TEST_PARK_THREAD
/// (`<thread>:<file>`: the thread parks at its next heartbeat while the
/// file exists; release builds have no such hook).
@Suite("busd watchdog follows its threads", .serialized)
struct WatchdogThreadsTests {
    static func pings(_ notify: NotifySocket, during seconds: TimeInterval) -> Int {
        var pings = 0
        let started = Date()
        while Date().timeIntervalSince(started) < seconds,
            let message = notify.receive(timeout: max(0.01, seconds - Date().timeIntervalSince(started)))
        {
            if message == "WATCHDOG=1" { pings += 1 }
        }
        return pings
    }

    /// Each thread's name and where it waits in the kernel, for a failure's message.
    static func threads(_ pid: Int32) -> String {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.map { task in
            let comm = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8)) ?? "?"
            let wchan = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/wchan", encoding: .utf8)) ?? "?"
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) + " " + wchan
        }.joined(separator: "\n")
    }

    @Test func pingsStopWhileAThreadIsStuckAndComeBackAfter() throws {
        let server = try RedisTestServer()
        defer { server.stop() }
        let park = server.directory.appendingPathComponent("park-router").path
        let notify = try NotifySocket()
        let socketPath = server.directory.appendingPathComponent("busd.sock").path
        let port = try FreePort.find()
        let busd = try CollectedBusd(
            arguments: [
                "--redis", server.url, "--node-id", "web-watchdog", "--http", "127.0.0.1:\(port)",
                "--log-level", "info", "--socket", socketPath,
            ],
            environment: [
                "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000",
                "BUSD_TEST_PARK_THREAD": "busd-router:\(park)",
            ]
        )
        defer {
            unlink(park)
            busd.stop()
        }
        var seen: [String] = []
        #expect(notify.wait(for: "READY=1", timeout: 10, seen: &seen) != nil, "\(busd.stderr)")
        // A node connection: its reader and writer threads are watched too, idle.
        let node = try TestNodeClient(path: socketPath)
        _ = try node.handshake()

        // Idle for longer than the stall bound (2 s): every thread wakes
        // and beats on its own, so the pings (every 200 ms) keep coming.
        let idle = Self.pings(notify, during: 3)
        #expect(idle >= 6 && idle <= 20, "pings in 3 s while idle: \(idle)\n\(busd.stderr)")
        let later = Self.pings(notify, during: 1)
        #expect(later >= 2, "pings after 4 s idle: \(later)")
        #expect(!busd.stderr.contains("made no progress"), "\(busd.stderr)")

        // The router stops at its next beat (within its 1 s idle wake-up);
        // 2 s later the pings stop and the log names it.
        FileManager.default.createFile(atPath: park, contents: Data())
        // Reading on as systemd does: an unread notify socket holds only a few datagrams.
        var reported = false
        let deadline = Date().addingTimeInterval(6)
        while !reported && Date() < deadline {
            _ = Self.pings(notify, during: 0.2)
            reported = busd.stderr.contains("watchdog: thread(s) made no progress; not telling systemd we are alive")
        }
        #expect(reported, "\(busd.stderr)\n\(Self.threads(busd.process.processIdentifier))")
        let stuckLine = busd.lines.first { $0.contains("made no progress") } ?? ""
        #expect(stuckLine.contains("busd-router (silent "), "\(stuckLine)")
        #expect(!stuckLine.contains("busd-subscriber") && !stuckLine.contains("busd-mirror"), "\(stuckLine)")
        _ = Self.pings(notify, during: 0.3)  // one already on its way
        #expect(Self.pings(notify, during: 1.5) == 0, "no ping while the router is stuck")

        // Unstuck: pings again, and the log says so.
        unlink(park)
        #expect(Self.pings(notify, during: 2) >= 3, "\(busd.stderr)")
        #expect(busd.stderr.contains("watchdog: every thread makes progress again"), "\(busd.stderr)")
    }
}
