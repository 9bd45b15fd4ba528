import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

/// busd and busctl on a real Redis Cluster (three masters, three replicas),
/// started once for the suite by the `.redisCluster` trait.
@Suite("Redis Cluster", .serialized, .redisCluster)
struct RedisClusterTests {
    @TaskLocal static var cluster: RedisClusterTestServer?

    var cluster: RedisClusterTestServer {
        get throws { try #require(Self.cluster) }
    }

    func client(_ url: String) throws -> RedisClient {
        try RedisClient.connect(try RedisConfiguration(url: url), timeout: .seconds(2))
    }

    @Test func keySlotsAgreeWithTheCluster() throws {
        let cluster = try cluster
        let client = try client(cluster.url(cluster.livePorts[0]))
        defer { client.close() }
        #expect(client.isCluster)
        var keys = ["{socketbus}:owner", "socketbus:acks:x", "{}", "a{}{b}", "{a}{b}", "}{x}"]
        for index in 0..<150 {
            keys.append("k\(index)-\(UUID().uuidString.prefix(index % 9))\(index % 3 == 0 ? "{t\(index)}" : "")")
        }
        for key in keys {
            let reply = try client.command(["CLUSTER", "KEYSLOT", key])
            #expect(reply.integer == Int64(ClusterKeySlot.slot(of: key)), "\(key)")
        }
    }

    /// A slot migrated under the router: ASK while it migrates, MOVED once
    /// it moved; an error reply stays an error.
    @Test func movedAndAskAreFollowedAndErrorsStayErrors() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let any = cluster.livePorts[0]
        let client = try client(cluster.url(any))
        defer { client.close() }
        let router = try #require(client.router)
        let key = "migrating-\(UUID().uuidString)"
        let (movedBefore, askedBefore) = (ClusterStatistics.shared.moved, ClusterStatistics.shared.asked)
        let slot = ClusterKeySlot.slot(of: key)
        _ = try client.pipeline([["SET", key, "v1"], ["SET", "{\(key)}:stays", "v0"]])
        let source = try #require(try cluster.masterPort(ofSlot: slot, askingNode: any))
        let target = try #require(try cluster.masterPorts(askingNode: any).first { $0 != source })
        let sourceId = try cluster.nodeId(source)
        let targetId = try cluster.nodeId(target)
        try cluster.cli(target, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceId])
        try cluster.cli(source, ["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetId])
        let migrated = try cluster.cli(source, ["MIGRATE", "127.0.0.1", "\(target)", "", "0", "5000", "KEYS", key])
        #expect(migrated == "OK", "\(migrated)")
        // The key is on the target now: the source answers ASK.
        #expect(try client.command(["GET", key]).string == "v1")
        let replies = try client.pipeline([["GET", key], ["GET", "{\(key)}:stays"], ["GET", key]])
        #expect(replies.map(\.string) == ["v1", "v0", "v1"])
        try cluster.cli(source, ["MIGRATE", "127.0.0.1", "\(target)", "", "0", "5000", "KEYS", "{\(key)}:stays"])
        for port in try cluster.masterPorts(askingNode: any) + [target] {
            try cluster.cli(port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        }
        // The router still has the old table: MOVED, then the table is read again.
        #expect(try client.command(["GET", "{\(key)}:stays"]).string == "v0")
        #expect(try router.connection(forSlot: slot).endpoint == .tcp(host: "127.0.0.1", port: target))
        #expect(ClusterStatistics.shared.moved > movedBefore && ClusterStatistics.shared.asked >= askedBefore + 2)
        #expect(throws: RedisError.self) { try client.command(["MGET", "a", "b"]) }  // CROSSSLOT
        do {
            _ = try client.command(["INCR", key])
            Issue.record("INCR of a string answered")
        } catch {
            #expect(error.code == .reply && error.message.contains("not an integer"), "\(error)")
        }
    }

    /// A slot no master serves: CLUSTERDOWN is retried a bounded number of
    /// times, then thrown (never an empty result).
    @Test func clusterDownIsRetriedWithinABoundThenAnError() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let client = try client(cluster.url(cluster.livePorts[0]))
        defer { client.close() }
        let key = "down-\(UUID().uuidString)"
        let slot = ClusterKeySlot.slot(of: key)
        _ = try client.command(["SET", key, "x"])
        let master = try #require(try cluster.masterPort(ofSlot: slot, askingNode: cluster.livePorts[0]))
        try cluster.cli(master, ["CLUSTER", "DELSLOTS", "\(slot)"])
        defer {
            _ = try? cluster.cli(master, ["CLUSTER", "ADDSLOTS", "\(slot)"])
            #expect(cluster.waitUntilHealthy())
        }
        #expect(eventually { ((try? cluster.cli(master, ["CLUSTER", "INFO"])) ?? "").contains("cluster_state:fail") })
        let retriesBefore = ClusterStatistics.shared.retries
        let started = ContinuousClock.now
        do {
            let reply = try client.command(["GET", key])
            Issue.record("GET on a slot no master serves answered \(reply)")
        } catch {
            #expect(error.replyPrefix == "CLUSTERDOWN", "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(ClusterStatistics.shared.retries > retriesBefore)
    }

    /// Each node counts only its own subscribers: the count is summed over the nodes.
    @Test func subscribersAreCountedOverEveryNode() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let channel = "socket.io-request#/count-\(UUID().uuidString.prefix(6))#"
        let ports = cluster.livePorts
        let first = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: ports[0]))
        let second = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: ports[1]))
        let watcher = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: ports[2]))
        _ = try first.command(["SUBSCRIBE", channel])
        _ = try second.command(["SUBSCRIBE", channel])
        _ = try watcher.command(["PSUBSCRIBE", channel])  // not counted, as on one Redis
        let client = try client(cluster.url(ports[3]))
        defer { client.close() }
        #expect(try client.subscriberCounts([channel])[channel] == 2)
        #expect(
            try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: ports[0])).subscriberCounts([channel])[channel]
                == 1
        )
        #expect(try client.activeChannels(matching: "socket.io-request#/count-*").contains(channel))
    }

    @Test func busctlFindsSocketsAndNodesThroughSeedsWhoseFirstIsDown() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let busd = try ClusterBusd(url: cluster.url(cluster.livePorts[1]), directory: cluster.directory)
        busd.connect("cluster-sock-1")
        let dead = try FreePort.find()
        let seeds = "redis://127.0.0.1:\(dead),127.0.0.1:\(cluster.livePorts[2])"
        #expect(
            eventually(timeout: .seconds(10)) {
                (try? InspectCommandTests.run(["find-socket", "cluster-sock-1", "--redis", seeds]))?.status == 0
            }
        )
        let found = try InspectCommandTests.run(["find-socket", "--json", "cluster-sock-1", "--redis", seeds])
        #expect(found.status == 0 && found.stdout.contains(#""node":"web-c""#), "\(found.stdout)\(found.stderr)")
        let nodes = try InspectCommandTests.run(["nodes", "--redis", seeds])
        #expect(nodes.status == 0 && nodes.stdout.contains("web-c"), "\(nodes.stdout)\(nodes.stderr)")
        // busd answers requests for its node: counted by NUMSUB summed over the nodes.
        #expect(
            eventually(timeout: .seconds(5)) {
                (try? InspectCommandTests.run(["nodes", "--servers", "--json", "--redis", seeds]))?.stdout
                    .contains(#""namespace":"/","channel":"socket.io-request#/#","servers":1"#) == true
            }
        )
        // On a cluster the registry is hash-tagged: one slot for every key of it.
        let client = try client(seeds)
        defer { client.close() }
        #expect(try client.command(["HEXISTS", "{socketbus}:owner", "cluster-sock-1"]).integer == 1)
        #expect(try client.command(["EXISTS", "socketbus:owner"]).integer == 0)
        let missing = try InspectCommandTests.run(["find-socket", "no-such-socket", "--redis", seeds])
        #expect(missing.status != 0)
    }

    /// The classic adapter on a cluster: a stock node (stand-in) on one node,
    /// busd on another; broadcasts and requests cross between them.
    @Test func classicPubSubCrossesClusterNodes() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let ports = cluster.livePorts
        let stock = try StockNodeStandIn(redis: ports[0], sockets: [.init(id: "stock-sock", rooms: ["r1"])])
        defer { stock.stop() }
        // busd's first seed is down.
        let dead = try FreePort.find()
        let busd = try ClusterBusd(
            url: "redis://127.0.0.1:\(dead),127.0.0.1:\(ports[ports.count - 1])",
            directory: cluster.directory
        )
        busd.connect("busd-sock")
        let other = cluster.url(ports[1])
        #expect(
            eventually(timeout: .seconds(5)) {
                (try? InspectCommandTests.run(["nodes", "--servers", "--json", "--redis", other]))?.stdout
                    .contains(#""channel":"socket.io-request#/#","servers":2"#) == true
            }
        )
        // The node's io.emit: busd publishes it on its cluster node; the stock node hears it on another.
        busd.node.send(
            .broadcast(
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: [],
                except: [],
                packet: Array(#"2["hello","all"]"#.utf8),
                attachments: []
            )
        )
        #expect(eventually { stock.deliveries.contains { $0.socket == "stock-sock" } })
        // A socket of the stock node: not in the registry, found by a cluster-wide fetch.
        let found = try InspectCommandTests.run(["find-socket", "stock-sock", "--redis", other])
        #expect(found.status == 5, "\(found.stdout)\(found.stderr)")
    }

    /// The master holding the registry and busd's subscriber is killed while
    /// a publisher (on another master) sends numbered broadcasts.
    ///
    /// Counted: every PUBLISH that Redis accepted, against what busd handed
    /// its node. Redis pub/sub drops what is published while busd has no
    /// subscription (from the kill until it subscribed again on another
    /// node); everything published outside that window must arrive.
    @Test func aMasterKilledUnderLoadIsSurvivedLikeAnOutage() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let registrySlot = ClusterKeySlot.slot(of: "{socketbus}")
        let victim = try #require(try cluster.masterPort(ofSlot: registrySlot, askingNode: cluster.livePorts[0]))
        let survivor = try #require(try cluster.masterPorts(askingNode: victim).first { $0 != victim })
        let busd = try ClusterBusd(url: cluster.url(victim), directory: cluster.directory, logLevel: "info")
        let sockets = (0..<50).map { "failover-\($0)" }
        for socket in sockets { busd.connect(socket) }
        let check = try client(cluster.url(survivor))
        defer { check.close() }
        #expect(
            eventually(timeout: .seconds(10)) { (try? check.command(["HLEN", "{socketbus}:owner"]).integer) == 50 }
        )
        #expect(eventually(timeout: .seconds(10)) { busd.log.count("subscriber connected") >= 1 })

        // A long-lived client (as busd's server counter keeps one), with the victim in its table.
        let longLived = try client(cluster.url(survivor))
        defer { longLived.close() }
        #expect(try longLived.command(["HLEN", "{socketbus}:owner"]).integer == 50)
        let load = Load(publishTo: survivor)
        let receiver = Thread { busd.receive(into: load) }
        receiver.start()
        let publisher = Thread { load.publish() }
        publisher.start()
        Thread.sleep(forTimeInterval: 1.5)
        let killed = ContinuousClock.now
        cluster.kill(port: victim)
        let resubscribed = busd.log.waitFor("subscriber connected", count: 2, timeout: .seconds(20))
        let rewritten = busd.log.waitFor("registry written to Redis", count: 2, timeout: .seconds(30))
        Thread.sleep(forTimeInterval: 1.5)
        load.stop()
        Thread.sleep(forTimeInterval: 1.0)
        busd.stopReceiving()
        while receiver.isExecuting || publisher.isExecuting { Thread.sleep(forTimeInterval: 0.05) }

        if resubscribed == nil || rewritten == nil {
            print(
                busd.log.text.split(separator: "\n").filter {
                    $0.contains("mirror") || $0.contains("registry") || $0.contains("cluster")
                }.suffix(40).joined(separator: "\n")
            ); print(try cluster.cli(survivor, ["CLUSTER", "NODES"]))
        }
        let resubscribedAt = try #require(resubscribed, "busd did not subscribe again")
        let rewrittenAt = try #require(rewritten, "busd did not rewrite its registry")
        let outcome = load.outcome()
        let lost = outcome.published.filter { !outcome.received.contains($0.seq) }
        // busd is subscribed again once a broadcast published after the kill
        // reaches it: every later one travels the same path behind it. Lost may
        // be only what was in flight at the kill and what came before that one.
        let firstAfter = try #require(
            outcome.published.first { $0.at > killed && outcome.received.contains($0.seq) },
            "nothing published after the kill arrived"
        )
        let lostOutside = lost.filter { $0.at < killed - .milliseconds(250) || $0.seq > firstAfter.seq }
        print(
            "cluster fail-over: kill → subscriber connected \((resubscribedAt - killed).milliseconds) ms (log), "
                + "first broadcast through again published \((firstAfter.at - killed).milliseconds) ms after the kill, "
                + "kill → registry rewritten \((rewrittenAt - killed).milliseconds) ms; published \(outcome.published.count), "
                + "received \(outcome.received.count), lost \(lost.count) (all in flight at the kill or before busd "
                + "subscribed again: \(lostOutside.isEmpty)), publish errors \(outcome.failures)"
        )
        #expect(outcome.published.count > 1000)
        #expect(lostOutside.isEmpty, "lost outside the window: \(lostOutside.prefix(10).map(\.seq))")
        #expect(outcome.received.count >= outcome.published.count - lost.count)
        // The registry is whole again on the promoted replica.
        let after = try client(cluster.url(survivor))
        defer { after.close() }
        let owners = try after.command(["HGETALL", "{socketbus}:owner"]).array ?? []
        let ids = stride(from: 0, to: owners.count, by: 2).compactMap { owners[$0].string }
        #expect(Set(ids) == Set(sockets))
        #expect(try after.command(["SMEMBERS", "{socketbus}:nodes"]).array?.compactMap(\.string) == ["web-c"])
        // The long-lived client finds the promoted replica: its table is read again after the lost node.
        #expect(
            eventually(timeout: .seconds(5)) { (try? longLived.command(["HLEN", "{socketbus}:owner"]).integer) == 50 }
        )
        let found = try InspectCommandTests.run(["find-socket", "failover-7", "--redis", cluster.url(survivor)])
        #expect(found.status == 0, "\(found.stdout)\(found.stderr)")
        #expect(cluster.waitUntilHealthy())
    }
}

/// Starts a Redis Cluster for a whole suite and stops it after.
struct RedisClusterTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try RedisClusterTestServer()
        defer { cluster.stop() }
        try await RedisClusterTests.$cluster.withValue(cluster) { try await function() }
    }
}

extension Trait where Self == RedisClusterTrait {
    static var redisCluster: Self { Self() }
}
