import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// `busctl sockets`, `rooms`, `join`, `leave` and `disconnect` against a real
/// redis-server, a real busd with a test node, and a real stock Socket.IO
/// 4.8.1 server (redis-adapter 8.3.0) with real client sockets.
@Suite("busctl cluster verbs", .serialized)
struct ClusterVerbsTests {
    static let busdSocket = "busdSocketAAAAAAAAAB"

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// `busctl sockets --json` (extra arguments appended): the ids found, the exit status and the object.
    static func socketIds(_ busd: DeliveryCommandTests.RunningBusd, _ extra: [String] = []) throws
        -> (ids: Set<String>, status: Int32, object: [String: Any])
    {
        let result = try InspectCommandTests.run(["sockets", "--json", "--redis", busd.server.url] + extra)
        let object = json(result.stdout)
        let ids = (object["sockets"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        return (Set(ids), result.status, object)
    }

    static func started() throws -> (DeliveryCommandTests.RunningBusd, StockSocketIONode) {
        let busd = try DeliveryCommandTests.RunningBusd()
        busd.connect(busdSocket, rooms: ["ops"])
        #expect(busd.waitRegistered(busdSocket))
        let stock = try StockSocketIONode(redisPort: busd.server.port)
        return (busd, stock)
    }

    @Test func socketsAndRoomsAreListedFromABusdNodeAndAStockNode() throws {
        let (busd, stock) = try Self.started()
        defer { stock.stop() }
        let all = try Self.socketIds(busd)
        #expect(all.status == 0, "\(all.object)")
        #expect(all.ids == Set(stock.socketIds + [Self.busdSocket]), "\(all.object)")
        #expect(all.object["servers"] as? Int == 2 && all.object["answered"] as? Int == 2, "\(all.object)")

        let ops = try Self.socketIds(busd, ["--room", "ops"])
        #expect(ops.ids == [Self.busdSocket], "\(ops.object)")
        let lobby = try Self.socketIds(busd, ["--room", "lobby", "--except", stock.socketIds[0]])
        #expect(lobby.ids == [stock.socketIds[1]], "\(lobby.object)")

        let node = try InspectCommandTests.run(["sockets", "--node", "web-1", "--json", "--redis", busd.server.url])
        #expect(node.status == 0)
        #expect(Self.json(node.stdout)["sockets"] as? [String] == [Self.busdSocket], "\(node.stdout)")

        let rooms = try InspectCommandTests.run(["rooms", "--json", "--redis", busd.server.url])
        #expect(rooms.status == 0, "\(rooms.stdout)\(rooms.stderr)")
        let names = Set(Self.json(rooms.stdout)["rooms"] as? [String] ?? [])
        #expect(names.isSuperset(of: ["lobby", "ops", Self.busdSocket] + stock.socketIds), "\(rooms.stdout)")

        let text = try InspectCommandTests.run(["sockets", "--redis", busd.server.url])
        #expect(text.status == 0)
        #expect(text.stdout.contains("2 of 2 server(s) answered") && text.stdout.contains(stock.socketIds[0]))
    }

    @Test func joinLeaveAndDisconnectReachBothKindsOfNode() throws {
        let (busd, stock) = try Self.started()
        defer { stock.stop() }
        let url = busd.server.url
        let join = try InspectCommandTests.run([
            "join", "vip", "--socket", stock.socketIds[0], "--socket", Self.busdSocket, "--json", "--redis", url,
        ])
        #expect(join.status == 0, "\(join.stdout)\(join.stderr)")
        #expect(Self.json(join.stdout)["servers"] as? Int == 2, "\(join.stdout)")
        // busd hands the request to its node, which applies it as a connector does.
        guard case .socketsJoin("/", let ids, let rooms)? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no SOCKETS_JOIN frame")
            return
        }
        #expect(ids == [Self.busdSocket] && rooms == ["vip"])
        busd.node.send(.socketJoin(namespace: "/", socketId: Self.busdSocket, rooms: ["vip"]))
        #expect(eventually { (try? Self.socketIds(busd, ["--room", "vip"]))?.ids == [stock.socketIds[0], Self.busdSocket] })

        let leave = try InspectCommandTests.run(["leave", "vip", "--room", "vip", "--redis", url])
        #expect(leave.status == 0 && leave.stdout.contains("sent to 2 server(s)"), "\(leave.stdout)\(leave.stderr)")
        guard case .socketsLeave("/", [Self.busdSocket], ["vip"])? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no SOCKETS_LEAVE frame")
            return
        }
        busd.node.send(.socketLeave(namespace: "/", socketId: Self.busdSocket, rooms: ["vip"]))
        #expect(eventually { (try? Self.socketIds(busd, ["--room", "vip"]))?.ids.isEmpty == true })

        let disconnect = try InspectCommandTests.run([
            "disconnect", stock.socketIds[1], Self.busdSocket, "--json", "--redis", url,
        ])
        #expect(disconnect.status == 0, "\(disconnect.stdout)\(disconnect.stderr)")
        guard case .socketsDisconnect("/", [Self.busdSocket], false)? = try busd.node.receive(timeout: .seconds(5))
        else {
            Issue.record("no SOCKETS_DISCONNECT frame")
            return
        }
        busd.node.send(.socketDisconnect(namespace: "/", socketId: Self.busdSocket, reason: "server namespace disconnect"))
        #expect(eventually { (try? Self.socketIds(busd))?.ids == [stock.socketIds[0]] })
    }

    @Test func aSilentServerGivesThePartialResultAndItsExitStatus() throws {
        let server = try RedisTestServer()
        let answering = try StockNodeStandIn(
            redis: server.port, sockets: [.init(id: "answeringSocketAAAAB", rooms: ["lobby"], ack: nil)])
        defer { answering.stop() }
        let silent = try StockNodeStandIn(redis: server.port, sockets: [], behaviour: .silent)
        defer { silent.stop() }
        let result = try InspectCommandTests.run([
            "sockets", "--json", "--timeout", "300ms", "--redis", server.url,
        ])
        #expect(result.status == 6, "\(result.stdout)\(result.stderr)")
        let object = Self.json(result.stdout)
        #expect(object["servers"] as? Int == 2 && object["answered"] as? Int == 1, "\(result.stdout)")
        #expect((object["sockets"] as? [[String: Any]])?.first?["id"] as? String == "answeringSocketAAAAB")
        #expect(result.stderr.contains("did not answer in time"))
        let rooms = try InspectCommandTests.run(["rooms", "--timeout", "300ms", "--redis", server.url])
        #expect(rooms.status == 6 && rooms.stdout.contains("0 of 2 server(s) answered"), "\(rooms.stdout)")
    }

    @Test func noServerOnTheNamespaceIsItsOwnExitStatus() throws {
        let server = try RedisTestServer()
        for arguments in [["sockets"], ["rooms"], ["join", "r", "--all"], ["disconnect", "someone"]] {
            let result = try InspectCommandTests.run(arguments + ["--redis", server.url, "--timeout", "200ms"])
            #expect(result.status == 2, "\(arguments): \(result.stdout)\(result.stderr)")
        }
        let usage = try InspectCommandTests.run(["join", "r", "--redis", server.url])
        #expect(usage.status == 64 && usage.stderr.contains("--all"), "\(usage.stderr)")
    }

    /// Each verb that publishes says what went wrong with Redis, with the
    /// exit status its help gives: 4 for an error reply (here PUBSUB is not a
    /// command), 1 for a Redis it cannot reach.
    @Test func redisFailuresOfTheVerbsThatPublishAreTheirExitStatus() throws {
        let noPubSub = try RedisTestServer(extraArguments: ["--rename-command", "PUBSUB", ""])
        let closed = try RedisTestServer()
        let closedURL = closed.url
        closed.stop()
        for verb in [["join", "r", "--all"], ["leave", "r", "--all"], ["disconnect", "someone"]] {
            let refused = try InspectCommandTests.run(verb + ["--redis", noPubSub.url])
            #expect(refused.status == 4, "\(verb): \(refused.stdout)\(refused.stderr)")
            #expect(
                refused.stderr.contains("busctl \(verb[0]): Redis answered with an error")
                    && refused.stderr.contains("PUBSUB"), "\(verb): \(refused.stderr)")
            let unreachable = try InspectCommandTests.run(verb + ["--redis", closedURL])
            #expect(
                unreachable.status == 1 && unreachable.stderr.contains("cannot reach Redis"),
                "\(verb): \(unreachable.stdout)\(unreachable.stderr)")
        }
    }

    /// Malformed answers on the response channel, even with busctl's own
    /// request id, are skipped and not counted; the real answer still counts.
    @Test func malformedAnswersOnTheResponseChannelAreSkipped() throws {
        let server = try RedisTestServer()
        let silent = try StockNodeStandIn(redis: server.port, sockets: [], behaviour: .silent)
        defer { silent.stop() }
        let running = try DeliveryCommandTests.start(["rooms", "--json", "--timeout", "5s", "--redis", server.url])
        var requestId: String?
        #expect(eventually { requestId = silent.requests.last?.value["requestId"]?.stringValue; return requestId != nil })
        let publisher = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        let id = requestId ?? "?"
        let hostile: [[UInt8]] = [
            Array("not json".utf8), Array(#"{"requestId":"\#(id)","rooms":"nope"}"#.utf8),
            Array(#"{"requestId":"\#(id)"}"#.utf8), Array(#"[1,2,3]"#.utf8), [0x82, 0xa9], [0xc1],
            Array(#"{"requestId":"\#(id)","rooms":["hostile-ok",7]}"#.utf8),
        ]
        for payload in hostile {
            _ = try publisher.command([Array("PUBLISH".utf8), Array("socket.io-response#/#".utf8), payload])
        }
        let finished = DeliveryCommandTests.finish(running)
        #expect(finished.status == 0, "\(finished.output)")
        let lines = finished.output.split(separator: "\n")
        let object = Self.json(String(lines.first ?? ""))
        #expect(object["answered"] as? Int == 1, "\(finished.output)")
        #expect((object["rooms"] as? [Any])?.count == 2, "\(finished.output)")
    }

    /// One Socket.IO id in 64 starts with '-': a value, not an option.
    @Test func idsStartingWithADashAreTargetsNotOptions() throws {
        let busd = try DeliveryCommandTests.RunningBusd()
        let dashed = "-dashSocketAAAAAAAAB"
        busd.connect(dashed)
        #expect(busd.waitRegistered(dashed))
        let join = try InspectCommandTests.run(["join", "vip", "--socket", dashed, "--redis", busd.server.url])
        #expect(join.status == 0, "\(join.stdout)\(join.stderr)")
        guard case .socketsJoin("/", [dashed], ["vip"])? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no SOCKETS_JOIN frame")
            return
        }
        let disconnect = try InspectCommandTests.run(["disconnect", dashed, "--close", "--redis", busd.server.url])
        #expect(disconnect.status == 0, "\(disconnect.stdout)\(disconnect.stderr)")
        guard case .socketsDisconnect("/", [dashed], true)? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no SOCKETS_DISCONNECT frame")
            return
        }
    }
}
