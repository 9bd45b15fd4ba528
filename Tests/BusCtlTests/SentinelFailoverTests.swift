import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

/// busd through Redis Sentinel fail-overs, on real parts: a master, a
/// replica, three sentinels, the busd binary with a node, a publisher at a
/// steady rate and the real webhook listener for alerts.
///
/// How loss is counted: the publisher counts a message as accepted when
/// Redis answered its PUBLISH with one receiver or more, that is when Redis
/// had busd's subscriber to hand it to. Messages published while busd was
/// not subscribed on the master of the moment (receivers 0) or whose
/// PUBLISH failed are what Redis itself drops in a fail-over (pub/sub keeps
/// nothing); every accepted message must reach the node.
@Suite("busd through a Sentinel fail-over", .serialized)
struct SentinelFailoverTests {
    enum Trigger: String, CustomStringConvertible {
        case sentinelFailover = "SENTINEL FAILOVER"
        case masterKilled = "master killed (SIGKILL)"
        var description: String { rawValue }
    }

    @Test(arguments: [Trigger.sentinelFailover, .masterKilled])
    func busdFollowsTheFailOverLosesNothingAndSendsNoAlert(_ trigger: Trigger) throws {
        let run = try FailoverRun(grace: trigger == .masterKilled ? "8s" : "5s")
        defer { run.stop() }
        let publisher = SteadyPublisher(url: run.cluster.url, interval: 0.005)
        publisher.start()
        defer { publisher.stop() }
        #expect(
            eventually(timeout: .seconds(5)) { publisher.figures.accepted > 50 },
            "busd did not get the publisher's messages"
        )
        let rewritesBefore = run.metric("socketbus_registry_rewrites_total") ?? -1

        let failedOver = ContinuousClock.now
        switch trigger {
        case .sentinelFailover: _ = try run.cluster.sentinel(0).command(["SENTINEL", "FAILOVER", "mymaster"])
        case .masterKilled: run.cluster.master.kill()
        }
        // The registry changes during the fail-over too.
        var expected = Set((0..<20).map { "s-\($0)" })
        for id in ["s-0", "s-1"] {
            run.node.send(.socketDisconnect(namespace: "/", socketId: id, reason: "transport close"))
            expected.remove(id)
        }
        for id in (0..<5).map({ "late-\($0)" }) {
            run.connect(id)
            expected.insert(id)
        }

        // A new connection each time: the promotion kills the replica's clients.
        func onNewMaster<T>(_ body: (RedisConnection) throws -> T?) -> T? {
            guard let connection = try? RedisConnection(endpoint: .unix(path: run.cluster.replica.socketPath)) else {
                return nil
            }
            return try? body(connection)
        }
        func newMasterRegistry() -> Set<String> { onNewMaster { run.registry(on: $0) } ?? ["unreachable"] }
        var resubscribed: Duration?
        var rewritten: Duration?
        _ = eventually(timeout: .seconds(15)) {
            let now = ContinuousClock.now - failedOver
            if resubscribed == nil, onNewMaster({ try $0.command(["PUBSUB", "NUMPAT"]).integer }) ?? 0 > 0 {
                resubscribed = now
            }
            if rewritten == nil, (run.metric("socketbus_registry_rewrites_total") ?? -1) > rewritesBefore,
                newMasterRegistry() == expected
            {
                rewritten = now
            }
            return resubscribed != nil && rewritten != nil
        }
        print(
            "sentinel fail-over (\(trigger)): resubscribed on the new master after \(resubscribed.map { "\($0.milliseconds) ms" } ?? "never"), "
                + "registry rewritten after \(rewritten.map { "\($0.milliseconds) ms" } ?? "never")"
        )
        #expect(resubscribed != nil, "busd never subscribed on the new master")
        #expect(
            rewritten != nil,
            "the registry on the new master never matched busd's: \(newMasterRegistry().sorted())"
        )
        #expect(try run.cluster.masterPort(askingSentinel: 1) == run.cluster.replica.port)

        // Traffic after the switch is delivered too.
        let acceptedAtSwitch = publisher.figures.accepted
        #expect(eventually(timeout: .seconds(5)) { publisher.figures.accepted > acceptedAtSwitch + 50 })
        publisher.stop()
        let figures = publisher.figures
        #expect(eventually(timeout: .seconds(5)) { figures.acceptedSequence.isSubset(of: run.received) })
        let missing = figures.acceptedSequence.subtracting(run.received)
        print(
            "sentinel fail-over (\(trigger)): published \(figures.sent), accepted by Redis with busd subscribed \(figures.accepted), "
                + "to no subscriber \(figures.unheard), failed \(figures.failed); delivered to the node \(run.received.count); "
                + "accepted and not delivered \(missing.count)"
        )
        #expect(missing.isEmpty, "accepted by Redis and lost: \(missing.sorted().prefix(20))")
        #expect(newMasterRegistry() == expected)
        #expect(run.metric("socketbus_messages_dropped_total{reason=\"subscriber_backlog\"}") ?? 0 == 0)

        // Shorter than the alert grace: no alert, once the grace has passed.
        let graceEnd = failedOver + run.grace + .milliseconds(700)
        if ContinuousClock.now < graceEnd { Thread.sleep(forTimeInterval: (graceEnd - ContinuousClock.now).seconds) }
        let alerts = run.sink.records().compactMap { $0["body"] as? String }.filter { $0.contains("RedisUnreachable") }
        #expect(alerts.isEmpty, "an alert for a fail-over shorter than the grace: \(alerts)")
        #expect(run.metric("socketbus_redis_data_loss_total") == 0, "a fail-over is not a cut by Redis")
    }

    /// The same forms in busctl: it finds the master through the sentinels.
    @Test func busctlTakesTheSentinelURL() throws {
        let run = try FailoverRun(grace: "10s")
        defer { run.stop() }
        let found = try InspectCommandTests.run(["find-socket", "s-3", "--redis", run.cluster.url])
        #expect(found.status == 0 && found.stdout.contains("web-1"), "\(found.stdout)\(found.stderr)")
        let dead = try FreePort.find()
        let failed = try InspectCommandTests.run([
            "find-socket", "s-3", "--redis", "redis+sentinel://127.0.0.1:\(dead)/mymaster",
        ])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("no sentinel answered: 127.0.0.1:\(dead)"), "\(failed.stderr)")
        let unknown = try InspectCommandTests.run([
            "find-socket", "s-3", "--redis", "redis+sentinel://\(run.cluster.sentinelHosts)/othermaster",
        ])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no sentinel knows a master named 'othermaster'"), "\(unknown.stderr)")
    }

    /// Sentinels refusing their credentials: busd refuses to start (78),
    /// busctl exits 4, both naming the sentinels' password.
    @Test func wrongSentinelCredentialsAreAConfigurationError() throws {
        let cluster = try SentinelTestCluster(sentinelPassword: "right-one")
        let url = cluster.url + "?sentinel_password=wrong-one"
        let socket = cluster.directory.appendingPathComponent("busd.sock").path
        let busd = try InspectCommandTests.run(
            ["--redis", url, "--node-id", "web-1", "--socket", socket, "--http", "off"],
            executable: InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
        )
        #expect(busd.status == 78, "\(busd.stderr)")
        #expect(busd.stderr.contains("redis.sentinel_password: a sentinel of"), "\(busd.stderr)")
        #expect(!busd.stderr.contains("wrong-one"))
        let busctl = try InspectCommandTests.run(["find-socket", "x", "--redis", url])
        #expect(busctl.status == 4, "\(busctl.stderr)")
        #expect(busctl.stderr.contains("a sentinel refused the sentinels' credentials"), "\(busctl.stderr)")
        let right = try InspectCommandTests.run(
            ["find-socket", "x", "--redis", cluster.url],
            environment: ["SOCKETBUS_REDIS_SENTINEL_PASSWORD": "right-one", "PATH": "/usr/bin:/bin"]
        )
        #expect(right.status == 2, "not found, but asked: \(right.stdout)\(right.stderr)")
    }

    /// A master demoted under busd without the sentinels' CLIENT KILL: the
    /// registry mirror's writes get READONLY, and busd asks the sentinels
    /// again instead of staying on the replica.
    @Test func aReadOnlyReplyMakesBusdAskTheSentinelsAgain() throws {
        let run = try FailoverRun(grace: "10s")
        defer { run.stop() }
        let oldMaster = try RedisConnection(endpoint: .unix(path: run.cluster.master.socketPath))
        let newMaster = try RedisConnection(endpoint: .unix(path: run.cluster.replica.socketPath))
        // The sentinels forget the master, the roles swap, the sentinels watch the new one.
        for index in 0..<3 { _ = try run.cluster.sentinel(index).command(["SENTINEL", "REMOVE", "mymaster"]) }
        _ = try newMaster.command(["REPLICAOF", "NO", "ONE"])
        _ = try oldMaster.command(["REPLICAOF", "127.0.0.1", "\(run.cluster.replica.port)"])
        for index in 0..<3 {
            _ = try run.cluster.sentinel(index).command([
                "SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "\(run.cluster.replica.port)", "2",
            ])
        }
        let before = run.metric("socketbus_registry_rewrites_total") ?? -1
        // A registry write reaches the demoted master first: READONLY.
        run.connect("after-demotion")
        var expected = Set((0..<20).map { "s-\($0)" })
        expected.insert("after-demotion")
        #expect(
            eventually(timeout: .seconds(5)) { run.registry(on: newMaster) == expected },
            "\(run.registry(on: newMaster).sorted())"
        )
        #expect((run.metric("socketbus_registry_rewrites_total") ?? -1) > before)
        // The subscriber leaves the replica too: stock servers count busd
        // with PUBSUB NUMSUB on the master.
        #expect(
            eventually(timeout: .seconds(5)) { (try? newMaster.command(["PUBSUB", "NUMPAT"]).integer) ?? 0 > 0 },
            "busd's subscriber stayed on the demoted master"
        )
        let log = (try? String(contentsOfFile: run.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("READONLY"), "the mirror never got READONLY: \(log.suffix(2000))")
    }
}
