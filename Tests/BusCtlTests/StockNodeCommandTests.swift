import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// `busctl find-socket`, `emit --wait-ack` and `nodes` in a cluster with
/// Socket.IO servers without busd: the real busctl (and busd) binaries, a
/// real redis-server, and stock nodes stood in for by Redis clients that
/// answer as @socket.io/redis-adapter 8.3.0 does.
@Suite("busctl with stock nodes", .serialized)
struct StockNodeCommandTests {
    static let stockId = "Gx7kQ2mP9sL4vN1bR8tY"

    static func stockNode(
        _ server: RedisTestServer,
        namespace: String = "/",
        sockets: [StockNodeStandIn.Socket] = [.init(id: stockId, rooms: ["lobby"], ack: .string("pong"))],
        behaviour: StockNodeStandIn.Behaviour = .answers
    ) throws -> StockNodeStandIn {
        try StockNodeStandIn(redis: server.port, namespace: namespace, sockets: sockets, behaviour: behaviour)
    }

    // MARK: find-socket

    @Test func aSocketOnAServerWithoutBusdIsFoundByTheClusterFetch() throws {
        let server = try RedisTestServer()
        let stock = try Self.stockNode(server)
        defer { stock.stop() }
        let started = ContinuousClock.now
        let text = try InspectCommandTests.run(["find-socket", Self.stockId, "--redis", server.url])
        // Early stop: the one counted server answered, no need to wait out the 5 s.
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(text.status == 5, "\(text.stdout)\(text.stderr)")
        for expected in [
            "without busd", "10.1.2.3", "node-XMLHttpRequest", #"{"EIO":"4","transport":"websocket"}"#, "user, token",
            "Sat Nov 21 2026 05:02:59", "lobby", "1 of 1 answered",
        ] {
            #expect(text.stdout.contains(expected), "\(expected): \(text.stdout)")
        }
        #expect(!text.stdout.contains("s3cr3t"), "auth values stay out: \(text.stdout)")

        let json = try InspectCommandTests.run(["find-socket", Self.stockId, "--json", "--redis", server.url])
        #expect(json.status == 5)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["state"] as? String == "without-busd")
        #expect(object?["namespace"] as? String == "/")
        let handshake = object?["handshake"] as? [String: Any]
        #expect(handshake?["address"] as? String == "10.1.2.3")
        #expect(handshake?["userAgent"] as? String == "node-XMLHttpRequest")
        #expect(handshake?["authKeys"] as? [String] == ["user", "token"])
        #expect((handshake?["query"] as? [String: String])?["EIO"] == "4")
        #expect(!json.stdout.contains("s3cr3t"))

        // What the stock node got: the adapter's REMOTE_FETCH, in its key order.
        let request = try #require(stock.requests.first)
        let pattern =
            #/\{"uid":"[A-Za-z0-9]{6}","requestId":"[A-Za-z0-9]{6}","type":5,"opts":\{"rooms":\["Gx7kQ2mP9sL4vN1bR8tY"\],"except":\[\]\}\}/#
        #expect(String(decoding: request.raw, as: UTF8.self).wholeMatch(of: pattern) != nil, "\(request.value)")
    }

    @Test func theRegistryIsAskedFirstAndUnknownIdsExitTwo() throws {
        let server = try RedisTestServer()
        let stock = try Self.stockNode(server)
        defer { stock.stop() }
        let member = try RegistryCommandTests.member(server, "busd-node")
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        #expect(eventually { member.pendingRegistryWrites == 0 && member.registryRewrites > 0 })
        let registered = try InspectCommandTests.run(["find-socket", "AgUEon6wzXtHqqioAAAB", "--redis", server.url])
        #expect(registered.status == 0 && registered.stdout.contains("busd-node"), "\(registered.stderr)")
        #expect(stock.requests.isEmpty, "a registered socket needs no cluster fetch")

        let started = ContinuousClock.now
        let missing = try InspectCommandTests.run(["find-socket", "no-such-socket", "--redis", server.url])
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(missing.status == 2)
        // Every counted server answered (the cluster member too, when it answers requests).
        #expect(
            missing.stderr.contains("not found") && missing.stderr.contains(#/(\d+) of \1 answered/#),
            "\(missing.stderr)"
        )
    }

    @Test func aServerThatDoesNotAnswerIsWaitedForUntilTheTimeout() throws {
        let server = try RedisTestServer()
        let silent = try Self.stockNode(server, sockets: [], behaviour: .silent)
        defer { silent.stop() }
        var started = ContinuousClock.now
        let missing = try InspectCommandTests.run([
            "find-socket", "no-such-socket", "--timeout", "600ms", "--redis", server.url,
        ])
        let waited = ContinuousClock.now - started
        #expect(missing.status == 2)
        #expect(waited >= .milliseconds(600) && waited < .seconds(3), "\(waited)")
        #expect(missing.stderr.contains("0 of 1 answered"), "\(missing.stderr)")

        // The socket's server answers: found at once although another is silent.
        let stock = try Self.stockNode(server)
        defer { stock.stop() }
        started = ContinuousClock.now
        let found = try InspectCommandTests.run(["find-socket", Self.stockId, "--redis", server.url])
        #expect(found.status == 5 && found.stdout.contains("1 of 2 answered"), "\(found.stdout)")
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func namespacesAndTheSpecificResponseChannel() throws {
        let server = try RedisTestServer()
        let chat = try Self.stockNode(
            server,
            namespace: "/chat",
            sockets: [.init(id: "kjd6nH2e29v_GNS3AAAC", rooms: [], ack: nil)],
            behaviour: .specificResponseChannel
        )
        defer { chat.stop() }
        let inRoot = try InspectCommandTests.run(["find-socket", "kjd6nH2e29v_GNS3AAAC", "--redis", server.url])
        #expect(inRoot.status == 2)
        #expect(inRoot.stderr.contains("no server answers requests on socket.io-request#/#"), "\(inRoot.stderr)")
        let inChat = try InspectCommandTests.run([
            "find-socket", "kjd6nH2e29v_GNS3AAAC", "--namespace", "/", "--namespace", "/chat", "--json", "--redis",
            server.url,
        ])
        #expect(inChat.status == 5, "\(inChat.stdout)\(inChat.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(inChat.stdout.utf8)) as? [String: Any]
        #expect(object?["namespace"] as? String == "/chat")
        let bad = try InspectCommandTests.run(["find-socket", "x", "--namespace", "chat", "--redis", server.url])
        #expect(bad.status == 64 && bad.stderr.contains("must start with '/'"))
    }

    /// An ACL user that may not run PUBSUB: the count is an error reply,
    /// never "no server" (exit 4 like every other command).
    @Test func aRedisErrorReplyWhileCountingIsExitFour() throws {
        let server = try RedisTestServer()
        let admin = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        _ = try admin.command(["ACL", "SETUSER", "nopubsub", "on", ">pw-1", "~*", "&*", "+@all", "-pubsub"])
        let url = "redis://nopubsub:pw-1@127.0.0.1:\(server.port)"
        let stock = try Self.stockNode(server)
        defer { stock.stop() }
        for args in [
            ["find-socket", Self.stockId], ["nodes"], ["nodes", "--servers", "--json"],
            ["emit", "x", "--to", "lobby", "--wait-ack", "--timeout", "1s"],
        ] {
            let result = try InspectCommandTests.run(args + ["--redis", url])
            #expect(result.status == 4, "\(args): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("NOPERM"), "\(args): \(result.stderr)")
        }
    }

    // MARK: emit --wait-ack

    /// A room with a socket on a busd node and one on a stock node: busd's
    /// socket acks through socketbus (with its id), the stock one through
    /// the adapter's acked broadcast (count and value), each gets the
    /// event exactly once.
    @Test func waitAckCollectsBothKindsAndDeliversOnce() throws {
        let busd = try DeliveryCommandTests.RunningBusd()
        busd.connect("busd-sock-1", rooms: ["lobby"])
        #expect(busd.waitRegistered("busd-sock-1"))
        let stock = try Self.stockNode(
            busd.server,
            sockets: [
                .init(id: Self.stockId, rooms: ["lobby"], ack: .object(JSObject([("ok", .bool(true))]))),
                .init(id: "hT5-wq0_Ze3LmN8aKc2D", rooms: ["elsewhere"], ack: .string("never asked")),
            ]
        )
        defer { stock.stop() }
        let emit = try DeliveryCommandTests.start([
            "emit", "hello", "1", "--to", "lobby", "--wait-ack", "--timeout", "5s", "--id", "m-mixed", "--redis",
            busd.server.url,
        ])
        guard case .deliver(let ackId, _, _, let sockets, _, _)? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no DELIVER")
            return
        }
        #expect(sockets == ["busd-sock-1"])
        busd.node.send(
            .acked(ackId: ackId, socketId: "busd-sock-1", status: .delivered, arguments: Array(#"["hi"]"#.utf8))
        )
        let result = DeliveryCommandTests.finish(emit)
        #expect(result.status == 0, "\(result.output)")
        for expected in [
            "busd-sock-1", #"args ["hi"]"#, "socketbus nodes: 1/1 delivered, message id m-mixed",
            "stock count  1 client(s)", #"stock ack    {"ok":true}"#, "stock nodes: 1/1 acked,",
            "acked broadcast to 1 socket(s) on servers without busd",
        ] {
            #expect(result.output.contains(expected), "\(expected): \(result.output)")
        }
        // Every counted server answered (busd too, with 0, when it answers requests).
        #expect(result.output.contains(#/stock nodes: 1/1 acked, (\d+) of \1 servers answered/#), "\(result.output)")
        #expect(!result.output.contains("stock count  0"), "zero counts get no line: \(result.output)")
        #expect(eventually { stock.deliveries.count >= 1 })
        Thread.sleep(forTimeInterval: 0.2)  // a second delivery would have arrived by now
        #expect(stock.deliveries.map(\.socket) == [Self.stockId], "\(stock.deliveries)")
        #expect(stock.deliveries.first?.via == "request")

        // The stock node got the SOCKETS request for the targets, then the BROADCAST request
        // (msgpack, the adapter's layout).
        let lookup = try #require(stock.requests.first)
        #expect(
            String(decoding: lookup.raw, as: UTF8.self)
                .wholeMatch(
                    of: #/\{"uid":"[A-Za-z0-9]{6}","requestId":"[A-Za-z0-9]{6}","type":0,"rooms":\["lobby"\]\}/#
                )
                != nil,
            "\(lookup.value)"
        )
        let broadcast = try #require(stock.requests.first { $0.raw.first != UInt8(ascii: "{") })
        let request = try #require(broadcast.value.objectValue)
        #expect(request.properties.map(\.key) == ["uid", "requestId", "type", "packet", "opts"])
        #expect(request["type"] == .number(7))
        #expect(
            request["packet"]
                == .object(
                    JSObject([
                        ("type", .number(2)), ("data", .array([.string("hello"), .number(1)])), ("nsp", .string("/")),
                    ])
                )
        )
        #expect(request["opts"]?["rooms"] == .array([.string(Self.stockId)]))
        #expect(request["opts"]?.objectValue?.properties.map(\.key) == ["rooms", "except", "flags"])
        #expect(request["opts"]?["flags"]?["timeout"]?.numberValue.map { $0 > 3000 && $0 <= 5000 } == true)
    }

    @Test func onlyStockTargetsAndAClientThatDoesNotAck() throws {
        let server = try RedisTestServer()
        let stock = try Self.stockNode(server, sockets: [.init(id: Self.stockId, rooms: ["lobby"], ack: nil)])
        defer { stock.stop() }
        let started = ContinuousClock.now
        let result = try InspectCommandTests.run([
            "emit", "hello", "--to", Self.stockId, "--wait-ack", "--timeout", "1s", "--json", "--redis", server.url,
        ])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        let lines = result.stdout.split(separator: "\n").map { String($0) }
        #expect(
            lines.first
                == #"{"type":"stockClientCount","requestId":"\#(stock.requestIdOfBroadcast ?? "?")","clientCount":1}"#,
            "\(lines)"
        )
        let summary = try JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [String: Any]
        let part = summary?["stock"] as? [String: Any]
        #expect(part?["clients"] as? Int == 1 && (part?["acks"] as? [Any])?.isEmpty == true, "\(lines)")
        #expect(part?["sockets"] as? [String] == [Self.stockId])
        // No socketbus broadcast went out: the only target is on the stock node.
        #expect(stock.deliveries.map(\.via) == ["request"], "\(stock.deliveries)")

        // This one answers on busctl's own response channel (publishOnSpecificResponseChannel).
        let acking = try Self.stockNode(
            server,
            sockets: [.init(id: "hT5-wq0_Ze3LmN8aKc2D", rooms: [], ack: .number(3))],
            behaviour: .specificResponseChannel
        )
        defer { acking.stop() }
        let ok = try InspectCommandTests.run([
            "emit", "hello", "--to", "hT5-wq0_Ze3LmN8aKc2D", "--wait-ack", "--timeout", "5s", "--redis", server.url,
        ])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(
            ok.stdout.contains("stock ack    3")
                && ok.stdout.contains("1/1 acked, 2 of 2 servers answered the acked broadcast"),
            "\(ok.stdout)"
        )
        #expect(!ok.stdout.contains("published to socket.io#"), "\(ok.stdout)")
    }

    /// `--except` rooms are left out of the stock part as the in-memory
    /// adapter leaves them out: every socket in an except room.
    @Test func exceptRoomsNarrowTheStockTargets() throws {
        let server = try RedisTestServer()
        let stock = try Self.stockNode(
            server,
            sockets: [
                .init(id: Self.stockId, rooms: ["lobby", "vip"], ack: .number(1)),
                .init(id: "hT5-wq0_Ze3LmN8aKc2D", rooms: ["lobby"], ack: .number(2)),
            ]
        )
        defer { stock.stop() }
        let result = try InspectCommandTests.run([
            "emit", "hello", "--to", "lobby", "--except", "vip", "--wait-ack", "--timeout", "5s", "--json", "--redis",
            server.url,
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let summary =
            try JSONSerialization.jsonObject(
                with: Data((result.stdout.split(separator: "\n").last ?? "").utf8)
            ) as? [String: Any]
        let part = summary?["stock"] as? [String: Any]
        #expect(part?["sockets"] as? [String] == ["hT5-wq0_Ze3LmN8aKc2D"], "\(result.stdout)")
        #expect(part?["acks"] as? [Int] == [2], "\(result.stdout)")
        // The socket in vip got nothing; the other exactly one delivery, the acked one.
        Thread.sleep(forTimeInterval: 0.2)
        #expect(stock.deliveries.map(\.socket) == ["hT5-wq0_Ze3LmN8aKc2D"], "\(stock.deliveries)")
        #expect(stock.deliveries.map(\.via) == ["request"])
    }

    /// A counted server that never answers the target lookup may hold
    /// targets: exit 2 ("did not answer"), not 3 ("no node had a target").
    @Test func aServerSilentOnTheLookupIsNotNobody() throws {
        let server = try RedisTestServer()
        let silent = try Self.stockNode(server, behaviour: .silent)
        defer { silent.stop() }
        let result = try InspectCommandTests.run([
            "emit", "hello", "--to", "lobby", "--wait-ack", "--timeout", "1500ms", "--redis", server.url,
        ])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("1 of 1 servers did not answer the target lookup"), "\(result.stderr)")
        // Its socket got socketbus's broadcast (no ack was asked of it), as the message says.
        #expect(silent.deliveries.map(\.via) == ["broadcast"], "\(silent.deliveries)")
    }

    @Test func withOnlyBusdTargetsEmitIsAsBefore() throws {
        let busd = try DeliveryCommandTests.RunningBusd()
        busd.connect("busd-sock-2", rooms: ["lobby"])
        #expect(busd.waitRegistered("busd-sock-2"))
        let emit = try DeliveryCommandTests.start([
            "emit", "hello", "--to", "lobby", "--wait-ack", "--timeout", "5s", "--redis", busd.server.url,
        ])
        guard case .deliver(let ackId, _, _, _, _, _)? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no DELIVER")
            return
        }
        busd.node.send(.acked(ackId: ackId, socketId: "busd-sock-2", status: .delivered, arguments: Array("[]".utf8)))
        let result = DeliveryCommandTests.finish(emit)
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("stock"), "\(result.output)")
        #expect(result.output.contains("1/1 delivered, message id"))
    }

    // MARK: nodes

    @Test func nodesCountTheServersBesideTheRegisteredNodes() throws {
        let busd = try DeliveryCommandTests.RunningBusd()
        let a = try Self.stockNode(busd.server)
        let b = try Self.stockNode(busd.server, sockets: [])
        let chat = try Self.stockNode(busd.server, namespace: "/chat", sockets: [])
        defer { [a, b, chat].forEach { $0.stop() } }
        #expect(
            eventually {
                (try? InspectCommandTests.run(["nodes", "--redis", busd.server.url]))?.stdout.contains("web-1") == true
            }
        )
        let table = try InspectCommandTests.run(["nodes", "--redis", busd.server.url])
        #expect(table.status == 0)
        let parts = table.stdout.components(separatedBy: "\n\n")
        #expect(parts.count == 2 && parts[0].contains("web-1"), "\(table.stdout)")
        let rows =
            parts.last?.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            } ?? []
        // What Redis counts now: the two stand-ins, and busd when it answers requests for its node.
        let redis = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: busd.server.port))
        let counted = try redis.command(["PUBSUB", "NUMSUB", "socket.io-request#/#"]).array?.last?.integer ?? -1
        #expect(counted >= 2)
        #expect(rows.contains(["/", "socket.io-request#/#", "\(counted)"]), "\(table.stdout)")
        #expect(rows.contains(["/chat", "socket.io-request#/chat#", "1"]), "\(table.stdout)")
        #expect(table.stdout.contains("1 busd node(s) alive"), "\(table.stdout)")

        let servers = try InspectCommandTests.run([
            "nodes", "--servers", "--json", "--namespace", "/chat", "--redis", busd.server.url,
        ])
        let array = try JSONSerialization.jsonObject(with: Data(servers.stdout.utf8)) as? [[String: Any]]
        #expect(
            array?.count == 1 && array?.first?["servers"] as? Int == 1
                && array?.first?["namespace"] as? String == "/chat"
        )
        // --json alone keeps its shape: the nodes.
        let nodes = try InspectCommandTests.run(["nodes", "--json", "--redis", busd.server.url])
        let list = try JSONSerialization.jsonObject(with: Data(nodes.stdout.utf8)) as? [[String: Any]]
        #expect(list?.first?["node"] as? String == "web-1")
    }
}
