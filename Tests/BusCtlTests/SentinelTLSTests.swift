import BusCore
import Foundation
import Hiredis
import SocketIOCodec
import Testing
import TestSupport

/// busd and busctl on `rediss+sentinel://`: a master, a replica and three
/// sentinels that all speak TLS only (certificates of a test CA), talking
/// TLS to each other too.
@Suite("Sentinel over TLS", .serialized)
struct SentinelTLSTests {
    @Test func busdRoutesWritesAndFollowsAFailOverOverTLS() throws {
        let run = try FailoverRun(grace: "10s", tls: true)  // waits for the registry on the master
        defer { run.stop() }
        let url = run.cluster.url
        #expect(url.hasPrefix("rediss+sentinel://"))
        #expect(eventually { Self.publish(tick: 1, url: url) > 0 }, "busd never subscribed on the TLS master")
        #expect(eventually { run.received.contains(1) }, "the broadcast was not routed to the node")
        let found = try InspectCommandTests.run(["find-socket", "--json", "s-3", "--redis", url])
        #expect(found.status == 0 && found.stdout.contains(#""node":"web-1""#), "\(found.stdout)\(found.stderr)")
        let nodes = try InspectCommandTests.run(["nodes", "--redis", url])
        #expect(nodes.status == 0 && nodes.stdout.contains("web-1"), "\(nodes.stdout)\(nodes.stderr)")

        let rewritesBefore = run.metric("socketbus_registry_rewrites_total") ?? -1
        let failedOver = ContinuousClock.now
        _ = try run.cluster.sentinel(0).command(["SENTINEL", "FAILOVER", run.cluster.masterName])
        let expected = Set((0..<20).map { "s-\($0)" })
        func onNewMaster<T>(_ body: (RedisConnection) throws -> T?) -> T? {
            guard let connection = try? RedisConnection(endpoint: .unix(path: run.cluster.replica.socketPath)) else {
                return nil
            }
            return try? body(connection)
        }
        var resubscribed: Duration?
        var rewritten: Duration?
        _ = eventually(timeout: .seconds(15)) {
            let now = ContinuousClock.now - failedOver
            if resubscribed == nil, onNewMaster({ try $0.command(["PUBSUB", "NUMPAT"]).integer }) ?? 0 > 0 {
                resubscribed = now
            }
            if rewritten == nil, (run.metric("socketbus_registry_rewrites_total") ?? -1) > rewritesBefore,
                onNewMaster({ run.registry(on: $0) }) == expected
            {
                rewritten = now
            }
            return resubscribed != nil && rewritten != nil
        }
        print(
            "sentinel fail-over over TLS: resubscribed on the new master after \(resubscribed.map { "\($0.milliseconds) ms" } ?? "never"), "
                + "registry rewritten after \(rewritten.map { "\($0.milliseconds) ms" } ?? "never")"
        )
        #expect(resubscribed != nil, "busd never subscribed on the new master")
        #expect(rewritten != nil, "the registry on the new master: \(onNewMaster { run.registry(on: $0) } ?? [])")
        #expect(try run.cluster.masterPort(askingSentinel: 1) == run.cluster.replicaClientPort)
        // Broadcasts published on the new master (found over TLS through the sentinels) are routed.
        #expect(eventually(timeout: .seconds(5)) { Self.publish(tick: 2, url: url) > 0 })
        #expect(eventually { run.received.contains(2) }, "no broadcast routed after the fail-over")
        let after = try InspectCommandTests.run(["find-socket", "--json", "s-4", "--redis", url])
        #expect(after.status == 0 && after.stdout.contains(#""node":"web-1""#), "\(after.stdout)\(after.stderr)")
    }

    /// The sentinels' certificates are checked: a CA that did not sign them
    /// stops busd (78) and busctl (1), naming the sentinel; so does a name
    /// the certificate does not hold.
    @Test func aCertificateTheSentinelsFailIsAClearErrorNamingTheSentinel() throws {
        let cluster = try SentinelTestCluster(tls: TestCertificates())
        defer { cluster.stop() }
        let otherCA = try TestCertificates()
        defer { otherCA.remove() }
        let wrongCA = "rediss+sentinel://\(cluster.sentinelHosts)/mymaster?ssl_ca_certs=\(otherCA.caFile)"
        let socket = cluster.directory.appendingPathComponent("busd.sock").path
        let busd = try Self.runBusd(["--redis", wrongCA, "--node-id", "web-1", "--socket", socket, "--http", "off"])
        #expect(busd.status == 78, "\(busd.stderr)")
        #expect(busd.stderr.contains("sentinel 127.0.0.1:\(cluster.sentinelPorts[0])"), "\(busd.stderr)")
        #expect(busd.stderr.contains("certificate verify failed"), "\(busd.stderr)")
        let busctl = try InspectCommandTests.run(["find-socket", "x", "--redis", wrongCA])
        #expect(busctl.status == 1, "\(busctl.stderr)")
        #expect(busctl.stderr.contains("sentinel 127.0.0.1:\(cluster.sentinelPorts[0])"), "\(busctl.stderr)")
        #expect(busctl.stderr.contains("certificate verify failed"), "\(busctl.stderr)")
        let wrongName = cluster.url + "&ssl_server_hostname=redis.example"
        let named = try InspectCommandTests.run(["find-socket", "x", "--redis", wrongName])
        #expect(named.status == 1, "\(named.stderr)")
        #expect(named.stderr.contains("sentinel 127.0.0.1:"), "\(named.stderr)")
        #expect(named.stderr.contains("certificate verify failed"), "\(named.stderr)")
        let right = try InspectCommandTests.run(["nodes", "--redis", cluster.url])
        #expect(right.status == 0, "\(right.stderr)")
    }

    /// PUBLISH of `2["tick",n]` on the master the sentinels name now; the receivers (0 on failure).
    static func publish(tick: Int, url: String) -> Int {
        guard let connection = try? RedisConfiguration(url: url).connect(timeout: .seconds(1)) else { return 0 }
        defer { connection.close() }
        let message = BroadcastMessage(uid: "tlspub", data: [.string("tick"), .number(Double(tick))], namespace: "/")
        guard let payload = try? message.encode(),
            let reply = try? connection.command([Array("PUBLISH".utf8), Array(message.channel().name.utf8), payload])
        else { return 0 }
        return Int(reply.integer ?? 0)
    }

    /// busd run to its exit, killed after 8 s: one that retries forever
    /// instead of refusing to start is a failure, not a hang.
    static func runBusd(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
        process.arguments = arguments + ["--log-level", "error"]
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        if !eventually(timeout: .seconds(8), { !process.isRunning }) {
            process.interrupt()
            process.waitUntilExit()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (-1, "busd still running after 8 s: \(text)")
        }
        process.waitUntilExit()
        return (
            process.terminationStatus,
            String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }
}
