import Foundation
import Testing
import TestSupport

/// Type=notify on the real busd: the test plays systemd with a datagram
/// socket of its own in `$NOTIFY_SOCKET`.
@Suite("busd systemd notify", .serialized)
struct SystemdNotifyTests {
    @Test func readyOnlyOnceRedisIsThereThenWatchdogThenStopping() throws {
        let server = try RedisTestServer()
        defer { server.stop() }
        server.kill()  // Redis is away when busd starts
        let notify = try NotifySocket()
        let busd = try CollectedBusd(
            arguments: [
                "--redis", server.url, "--node-id", "web-notify", "--http", "off", "--log-level", "info",
                "--socket", server.directory.appendingPathComponent("busd.sock").path, "--redis-timeout", "300ms",
                "--redis-retry-initial", "100ms", "--redis-retry-max", "200ms",
            ],
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]
        )
        defer { busd.stop() }
        var seen: [String] = []
        // Watchdog pings come while Redis is away (busd is alive), READY=1 does not.
        #expect(notify.wait(for: "READY=1", timeout: 1.5, seen: &seen) == nil, "ready without Redis: \(seen)")
        #expect(seen.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(seen)")
        try server.restart()
        #expect(notify.wait(for: "READY=1", timeout: 10, seen: &seen) != nil, "\(seen) \(busd.stderr)")
        var pings = 0
        let started = Date()
        while Date().timeIntervalSince(started) < 1.2, let message = notify.receive(timeout: 1) {
            if message == "WATCHDOG=1" { pings += 1 }
        }
        #expect(pings >= 3 && pings <= 9, "every ~200 ms: \(pings) in 1.2 s")
        busd.process.terminate()
        #expect(notify.wait(for: "STOPPING=1", timeout: 5, seen: &seen) != nil, "\(seen)")
        busd.process.waitUntilExit()
        #expect(busd.process.terminationStatus == 0)
    }

    @Test func abstractSocketNamesWork() throws {
        let server = try RedisTestServer()
        defer { server.stop() }
        // systemd may hand out an abstract name: '@' stands for the leading NUL.
        let name = "sbn-abstract-\(UUID().uuidString.prefix(8))"
        let notify = try AbstractNotifySocket(name: name)
        let busd = try CollectedBusd(
            arguments: [
                "--redis", server.url, "--node-id", "web-abstract", "--http", "off",
                "--socket", server.directory.appendingPathComponent("busd.sock").path,
            ],
            environment: ["NOTIFY_SOCKET": "@" + name]
        )
        defer { busd.stop() }
        #expect(notify.receive(timeout: 10)?.hasPrefix("READY=1") == true, "\(busd.stderr)")
    }

    @Test func sighupChangesTheLogLevelFromTheFile() throws {
        let server = try RedisTestServer()
        defer { server.stop() }
        let config = server.directory.appendingPathComponent("busd.yaml")
        try Data("log:\n  level: error\n".utf8).write(to: config)
        let notify = try NotifySocket()
        let busd = try CollectedBusd(
            arguments: [
                "--config", config.path, "--redis", server.url, "--node-id", "web-hup", "--http", "off",
                "--socket", server.directory.appendingPathComponent("busd.sock").path,
            ],
            environment: ["NOTIFY_SOCKET": notify.path]
        )
        defer { busd.stop() }
        var seen: [String] = []
        #expect(notify.wait(for: "READY=1", timeout: 10, seen: &seen) != nil)
        #expect(!busd.stderr.contains(" info ") && !busd.stderr.contains(" notice "), "error level: \(busd.stderr)")
        try Data("log:\n  level: info\n".utf8).write(to: config)
        kill(busd.process.processIdentifier, SIGHUP)
        #expect(notify.wait(for: "RELOADING=1", timeout: 5, seen: &seen) != nil, "\(seen)")
        #expect(eventually { busd.stderr.contains("reload: log.level changed from=error to=info") }, "\(busd.stderr)")
        #expect(busd.process.isRunning)
        // A broken file: refused, logged, the level stays.
        try Data("log:\n  level: loud\n".utf8).write(to: config)
        kill(busd.process.processIdentifier, SIGHUP)
        #expect(eventually { busd.stderr.contains("reload refused: configuration error") }, "\(busd.stderr)")
        busd.process.terminate()
        busd.process.waitUntilExit()
        #expect(busd.stderr.contains("notice busd: signal 15: draining"), "info level after the reload: \(busd.stderr)")
    }
}

/// A notify socket bound under an abstract name (`@name` in `$NOTIFY_SOCKET`).
final class AbstractNotifySocket {
    private let descriptor: Int32

    init(name: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [UInt8(0)] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard descriptor >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    deinit { close(descriptor) }

    func receive(timeout: TimeInterval) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
