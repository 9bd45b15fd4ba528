import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// busd and busctl on a Redis Cluster of three masters that speak TLS only,
/// the cluster bus included (`tls-cluster yes`), given `rediss://` seeds.
/// The cluster is started once for the suite (`.tlsRedisCluster`).
@Suite("Redis Cluster over TLS", .serialized, .tlsRedisCluster)
struct RedisClusterTLSTests {
    @TaskLocal static var cluster: RedisClusterTestServer?

    var cluster: RedisClusterTestServer {
        get throws { try #require(Self.cluster) }
    }

    /// `rediss://h1:p1,h2:p2?ssl_ca_certs=...` of the first two nodes.
    func seeds(_ cluster: RedisClusterTestServer, caFile: String? = nil) throws -> String {
        let ca = try caFile ?? #require(cluster.certificates).caFile
        let hosts = cluster.ports.prefix(2).map { "127.0.0.1:\($0)" }.joined(separator: ",")
        return "rediss://\(hosts)?ssl_ca_certs=\(ca)"
    }

    func tlsConnection(_ cluster: RedisClusterTestServer, port: Int) throws -> RedisConnection {
        try RedisConnection(
            endpoint: .tcp(host: "127.0.0.1", port: port),
            tls: #require(cluster.certificates).clientTLS
        )
    }

    /// The table comes from CLUSTER SLOTS over TLS: with `tls-cluster yes`
    /// it names the TLS ports, and those are what the router connects to.
    @Test func theSlotTableNamesTheTLSPortsAndMovedIsFollowed() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let client = try RedisClient.connect(try RedisConfiguration(url: seeds(cluster)), timeout: .seconds(2))
        defer { client.close() }
        #expect(client.isCluster)
        let router = try #require(client.router)
        #expect(
            Set(router.masters) == Set(cluster.ports.map { RedisConnection.Endpoint.tcp(host: "127.0.0.1", port: $0) })
        )
        // A key on each master, written and read through the router over TLS.
        var keys: [String] = []
        for index in 0..<30 { keys.append("tls-key-\(index)-\(UUID().uuidString.prefix(4))") }
        for key in keys { _ = try client.command(["SET", key, key]) }
        #expect(try keys.allSatisfy { try client.command(["GET", $0]).string == $0 })
        let slotsUsed = Set(
            keys.compactMap {
                try? cluster.masterPort(ofSlot: ClusterKeySlot.slot(of: $0), askingNode: cluster.ports[0])
            }
        )
        #expect(slotsUsed.count == 3, "the keys did not spread over the three masters: \(slotsUsed)")

        // An empty slot handed to another master: the router's table is old, MOVED says where.
        let key = "moved-\(UUID().uuidString)"
        let slot = ClusterKeySlot.slot(of: key)
        let source = try #require(try cluster.masterPort(ofSlot: slot, askingNode: cluster.ports[0]))
        let target = try #require(cluster.ports.first { $0 != source })
        #expect(try router.connection(forSlot: slot).endpoint == .tcp(host: "127.0.0.1", port: source))
        try moveSlot(slot, from: source, to: target, in: cluster)
        defer {
            _ = try? client.command(["DEL", key])
            _ = try? moveSlot(slot, from: target, to: source, in: cluster)
            #expect(cluster.waitUntilHealthy())
        }
        #expect(eventually { (try? cluster.masterPort(ofSlot: slot, askingNode: source)) == target })
        let movedBefore = ClusterStatistics.shared.moved
        _ = try client.command(["SET", key, "here"])
        #expect(ClusterStatistics.shared.moved > movedBefore, "no MOVED was followed")
        #expect(try router.connection(forSlot: slot).endpoint == .tcp(host: "127.0.0.1", port: target))
        #expect(try tlsConnection(cluster, port: target).command(["GET", key]).string == "here")
    }

    /// A node with both a plain and a TLS port: `CLUSTER SLOTS` names the
    /// port of the connection asking, so `rediss://` is routed to TLS ports
    /// (a TLS hello to the plain port would fail) and `redis://` to plain ones.
    @Test func aNodeWithBothPortsIsRoutedOnThePortOfTheScheme() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let tlsPort = try FreePort.find()
        let server = try RedisTestServer(
            extraArguments: certificates.clusterNodeArguments(tlsPort: tlsPort, keepPlainPort: true) + [
                "--cluster-enabled", "yes", "--cluster-port", "\(try FreePort.find())",
            ]
        )
        defer { server.stop() }
        let admin = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try admin.command(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
        #expect(eventually { (try? admin.command(["CLUSTER", "INFO"]).string)??.contains("cluster_state:ok") == true })
        let schemes = [
            ("rediss://127.0.0.1:\(tlsPort)?ssl_ca_certs=\(certificates.caFile)", tlsPort),
            ("redis://127.0.0.1:\(server.port)", server.port),
        ]
        for (url, port) in schemes {
            let client = try RedisClient.connect(try RedisConfiguration(url: url), timeout: .seconds(2))
            defer { client.close() }
            let router = try #require(client.router)
            #expect(router.masters == [.tcp(host: "127.0.0.1", port: port)], "\(url)")
            _ = try client.command(["SET", "both-\(port)", "x"])
            #expect(try client.command(["GET", "both-\(port)"]).string == "x")
        }
    }

    /// Hands an empty slot over as `redis-cli --cluster` would: importing and
    /// migrating first, then the target takes it (bumping its epoch, so that
    /// the source's older claim cannot win it back), then the others learn it.
    func moveSlot(_ slot: Int, from source: Int, to target: Int, in cluster: RedisClusterTestServer) throws {
        let (sourceId, targetId) = (try cluster.nodeId(source), try cluster.nodeId(target))
        try cluster.cli(target, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceId])
        try cluster.cli(source, ["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetId])
        for port in [target, source] + cluster.ports.filter({ $0 != source && $0 != target }) {
            try cluster.cli(port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        }
    }

    /// busd on `rediss://` seeds: its registry on the cluster, broadcasts
    /// published on any node routed to its node (classic pub/sub crosses the
    /// TLS cluster bus), its node's broadcasts heard on another node, busctl
    /// on the same seeds.
    @Test func busdWritesItsRegistryAndRoutesBroadcastsOverTLS() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let url = try seeds(cluster)
        let busd = try ClusterBusd(url: url, directory: cluster.directory)
        busd.connect("tls-cluster-sock")
        let client = try RedisClient.connect(try RedisConfiguration(url: url), timeout: .seconds(2))
        defer { client.close() }
        #expect(
            eventually { (try? client.command(["HEXISTS", "{socketbus}:owner", "tls-cluster-sock"]).integer) == 1 }
        )
        let found = try InspectCommandTests.run(["find-socket", "--json", "tls-cluster-sock", "--redis", url])
        #expect(found.status == 0 && found.stdout.contains(#""node":"web-c""#), "\(found.stdout)\(found.stderr)")
        let nodes = try InspectCommandTests.run(["nodes", "--redis", url])
        #expect(nodes.status == 0 && nodes.stdout.contains("web-c"), "\(nodes.stdout)\(nodes.stderr)")

        // Published on each node in turn: busd subscribes on one of them only.
        #expect(
            eventually(timeout: .seconds(5)) {
                (try? InspectCommandTests.run(["nodes", "--servers", "--json", "--redis", url]))?.stdout
                    .contains(#""channel":"socket.io-request#/#","servers":1"#) == true
            }
        )
        var delivered: Set<Int> = []
        for (index, port) in cluster.ports.enumerated() {
            let message = BroadcastMessage(
                uid: "tlsclu",
                data: [.string("tick"), .number(Double(index))],
                namespace: "/"
            )
            _ = try tlsConnection(cluster, port: port).command([
                Array("PUBLISH".utf8), Array(message.channel().name.utf8), try message.encode(),
            ])
            if case .deliver(_, _, _, _, let packet, _)? = try? busd.node.receive(timeout: .seconds(3)),
                let tick = Load.sequence(in: packet)
            {
                delivered.insert(tick)
            }
        }
        #expect(delivered == [0, 1, 2], "broadcasts routed to the node: \(delivered.sorted())")

        // The node's io.emit, published by busd, heard by a subscriber on every node.
        var listeners: [RedisConnection] = []
        for port in cluster.ports {
            let listener = try tlsConnection(cluster, port: port)
            _ = try listener.command(["SUBSCRIBE", "socket.io#/#"])
            try listener.setTimeout(.seconds(3))
            listeners.append(listener)
        }
        busd.node.send(
            .broadcast(
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: [],
                except: [],
                packet: Array(#"2["hello","tls"]"#.utf8),
                attachments: []
            )
        )
        for (listener, port) in zip(listeners, cluster.ports) {
            let reply = try? listener.readReply()
            #expect(
                reply?.array?.first?.string == "message",
                "node \(port) did not hear busd's broadcast: \(String(describing: reply))"
            )
        }
    }

    /// A CA that did not sign the nodes' certificates stops busd (78), even
    /// when the first seed is down: the seed that answered says what to fix.
    @Test func aWrongCAStopsBusdEvenBehindASeedThatIsDown() throws {
        let cluster = try cluster
        let otherCA = try TestCertificates()
        defer { otherCA.remove() }
        let dead = try FreePort.find()
        let url = "rediss://127.0.0.1:\(dead),127.0.0.1:\(cluster.ports[1])?ssl_ca_certs=\(otherCA.caFile)"
        let socket = cluster.directory.appendingPathComponent("busd-wrong-ca.sock").path
        let busd = try SentinelTLSTests.runBusd([
            "--redis", url, "--node-id", "web-x", "--socket", socket, "--http", "off",
        ])
        #expect(busd.status == 78, "\(busd.stderr)")
        #expect(busd.stderr.contains("127.0.0.1:\(cluster.ports[1])"), "\(busd.stderr)")
        #expect(busd.stderr.contains("certificate verify failed"), "\(busd.stderr)")
        let busctl = try InspectCommandTests.run(["nodes", "--redis", url])
        #expect(busctl.status == 1, "\(busctl.stderr)")
        #expect(busctl.stderr.contains("certificate verify failed"), "\(busctl.stderr)")
    }
}

/// Starts a TLS-only Redis Cluster (three masters, no replicas) for a whole suite.
struct TLSRedisClusterTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let started = ContinuousClock.now
        let cluster = try RedisClusterTestServer(nodes: 3, replicas: 0, tls: TestCertificates())
        print("TLS Redis Cluster (3 masters) up in \((ContinuousClock.now - started).milliseconds) ms")
        defer { cluster.stop() }
        try await RedisClusterTLSTests.$cluster.withValue(cluster) { try await function() }
    }
}

extension Trait where Self == TLSRedisClusterTrait {
    static var tlsRedisCluster: Self { Self() }
}
