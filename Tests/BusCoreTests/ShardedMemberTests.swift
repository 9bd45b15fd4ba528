import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// busd in a sharded-adapter cluster on a real redis-server (7.0: SSUBSCRIBE
/// and SPUBLISH), with a raw local-protocol v2 client as its node and raw
/// Redis connections as the stock sharded servers, speaking the bytes real
/// stock nodes sent (SocketIOCodecTests/Fixtures/sharded-captured.jsonl).
@Suite("Sharded adapter: busd against a real redis-server", .serialized)
struct ShardedMemberTests {
    static let sid = "AgUEon6wzXtHqqioAAAB"
    static let stockUid = "9ffc6a0edde9fe4b"

    static func fixture(_ mode: ShardedChannels.Mode = .dynamic) throws -> NodeLinkFixture {
        try NodeLinkFixture(configure: { $0.adapterFlavor = .sharded(mode) })
    }

    /// A v2 node with one socket in rooms "news" and 123.
    static func v2Node(_ f: NodeLinkFixture) throws -> TestNodeClient {
        let client = try TestNodeClient(path: f.path)
        client.send(.hello(version: 2, node: "test-node", pid: 1))
        #expect(try client.receive()?.name == "WELCOME")
        client.send(.namespace("/"))
        client.send(.socketConnect(namespace: "/", socketId: sid, connectedAt: 1))
        client.send(.roomsJoin(namespace: "/", socketId: sid, rooms: [.name(sid), .number(123), .name("news")]))
        #expect(eventually { f.member.socket(sid)?.typedRooms.count == 2 && f.member.subscribedShardChannels.count >= 4 })
        return client
    }

    static func nextFrame(_ client: TestNodeClient, timeout: Duration = .seconds(3)) throws -> LocalFrame? {
        while let frame = try client.receive(timeout: timeout) {
            if case .ping(let token) = frame {
                client.send(.pong(token: token))
                continue
            }
            return frame
        }
        return nil
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func subscribesAsAStockShardedNodeAndFollowsItsRooms() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let peer = try RawShardPeer(f.server, channels: [])
        #expect(try peer.shardCount("socket.io#/#") == 1)
        #expect(try peer.shardCount("socket.io#/#\(f.member.uid)#") == 1)
        #expect(try peer.shardCount("socket.io#/#news#") == 1)
        #expect(try peer.shardCount("socket.io#/#123#") == 1)
        // dynamic: a socket id is a private room, no channel of its own.
        #expect(try peer.shardCount("socket.io#/#\(Self.sid)#") == 0)
        #expect(f.member.uid.utf8.count == 16 && f.member.uid.allSatisfy(\.isHexDigit))
        // Nothing of the classic adapter: NUMSUB does not count busd there.
        #expect(try peer.publisher.command(["PUBSUB", "NUMSUB", "socket.io-request#/#"]) == .array([.bulk(Array("socket.io-request#/#".utf8)), .integer(0)]))
        #expect(f.member.subscribedPatterns.isEmpty)
        // The room empties: its channel goes, so busd no longer receives its traffic.
        client.send(.roomsLeave(namespace: "/", socketId: Self.sid, rooms: [.name("news")]))
        #expect(eventually { (try? peer.shardCount("socket.io#/#news#")) == 0 })
        client.send(.socketDisconnect(namespace: "/", socketId: Self.sid, reason: "transport close"))
        #expect(eventually { (try? peer.shardCount("socket.io#/#123#")) == 0 })
        #expect(try peer.shardCount("socket.io#/#") == 1)
    }

    @Test func dynamicPrivateAlsoSubscribesSocketIdRoomsAndStaticNoRoom() throws {
        for (mode, socketRoom, news) in [(ShardedChannels.Mode.dynamicPrivate, 1, 1), (.static, 0, 0)] {
            let f = try Self.fixture(mode)
            defer { f.stop() }
            let client = try TestNodeClient(path: f.path)
            client.send(.hello(version: 2, node: "test-node", pid: 1))
            #expect(try client.receive()?.name == "WELCOME")
            client.send(.namespace("/"))
            client.send(.socketConnect(namespace: "/", socketId: Self.sid, connectedAt: 1))
            client.send(.roomsJoin(namespace: "/", socketId: Self.sid, rooms: [.name("news")]))
            #expect(eventually { f.member.subscribedShardChannels.count == 2 + socketRoom + news })
            let peer = try RawShardPeer(f.server, channels: [])
            #expect(try peer.shardCount("socket.io#/#\(Self.sid)#") == socketRoom, "\(mode)")
            #expect(try peer.shardCount("socket.io#/#news#") == news, "\(mode)")
        }
    }

    @Test func deliversStockBroadcastsAndSkipsMalformedOnes() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let peer = try RawShardPeer(f.server, channels: [])
        // Hostile input first: counted, skipped, busd goes on.
        for junk in ["", "{", "[1,2]", #"{"type":3,"data":{"opts":{}}}"#, #"{"type":99}"#, "\u{93}\u{01}"] {
            try peer.publish("socket.io#/#", Array(junk.utf8))
        }
        try peer.publish("socket.io#/#", [0xc1, 0xff, 0x00])
        // Real bytes: `io.to("news").emit("headline", "x")` on a stock node.
        let headline = #"{"type":3,"data":{"packet":{"type":2,"data":["headline","x"]},"opts":{"rooms":["news"],"except":[],"flags":{}}},"uid":"9ffc6a0edde9fe4b","nsp":"/"}"#
        try peer.publish("socket.io#/#news#", Array(headline.utf8))
        guard case .deliverToRooms(_, _, "/", let rooms, let except, let packet, _)? = try Self.nextFrame(client) else {
            Issue.record("DELIVER_TO_ROOMS expected")
            return
        }
        #expect(rooms == [.name("news")] && except.isEmpty)
        #expect(Self.text(packet).hasPrefix(#"2"#) && Self.text(packet).hasSuffix(#"["headline","x"]"#))
        #expect(f.member.shardedStatistics?.malformed == 7)
        #expect(f.member.shardedStatistics?.received["broadcast"] == 1)
        // Binary, msgpack (reference vector 38): attachments reach the node.
        let binary = Hex.bytes(
            "84a47479706503a46461746182a67061636b657482a47479706502a46461746192a466696c65c403010203a46f70747383a5726f6f6d7390a665786365707490a5666c61677380a3756964b033663963326137626534643031383536a36e7370a12f"
        )
        try peer.publish("socket.io#/#", binary)
        guard case .deliverToRooms(_, _, "/", _, _, let binaryPacket, let attachments)? = try Self.nextFrame(client) else {
            Issue.record("DELIVER_TO_ROOMS expected")
            return
        }
        #expect(Self.text(binaryPacket).hasPrefix("51-"))
        #expect(attachments == [[1, 2, 3]])
        // From another namespace on this one's channel: skipped (socket.io-adapter 2.5.6+).
        try peer.publish("socket.io#/#", Array(headline.replacingOccurrences(of: #""nsp":"/""#, with: #""nsp":"/x""#).utf8))
        #expect(try Self.nextFrame(client, timeout: .milliseconds(300)) == nil)
        #expect(f.member.shardedStatistics?.malformed == 8)
    }

    @Test func answersAStockFetchSocketsOnTheRequestersChannel() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let requester = try RawShardPeer(f.server, channels: ["socket.io#/#\(Self.stockUid)#"])
        let request = #"{"type":7,"data":{"opts":{"rooms":["news"],"except":["nobody"],"flags":{}},"requestId":"a56403a69b12314c"},"uid":"9ffc6a0edde9fe4b","nsp":"/"}"#
        try requester.publish("socket.io#/#", Array(request.utf8))
        guard case .question(let id, 1, "/", let body)? = try Self.nextFrame(client) else {
            Issue.record("QUESTION expected")
            return
        }
        #expect(Self.text(body) == #"{"rooms":["news"],"except":["nobody"]}"#)
        let sockets = #"[{"id":"AgUEon6wzXtHqqioAAAB","handshake":{"auth":{}},"rooms":["AgUEon6wzXtHqqioAAAB",123,"news"],"data":{}}]"#
        client.send(.answer(request: id, status: 0, body: Array(sockets.utf8)))
        guard let (channel, payload) = try requester.next() else {
            Issue.record("no FETCH_SOCKETS_RESPONSE")
            return
        }
        #expect(channel == "socket.io#/#\(Self.stockUid)#")
        #expect(
            Self.text(payload)
                == #"{"type":8,"data":{"requestId":"a56403a69b12314c","sockets":"# + sockets + #"},"uid":"\#(f.member.uid)","nsp":"/"}"#
        )
        // SERVER_SIDE_EMIT with ack: the node's first ack argument goes back as type 10.
        try requester.publish(
            "socket.io#/#",
            Array(#"{"type":9,"data":{"requestId":"7ad013693962e83d","packet":["ping-servers"]},"uid":"9ffc6a0edde9fe4b","nsp":"/"}"#.utf8)
        )
        guard case .question(let emitId, 2, "/", let emitBody)? = try Self.nextFrame(client) else {
            Issue.record("QUESTION expected")
            return
        }
        #expect(Self.text(emitBody) == #"["ping-servers"]"#)
        client.send(.answer(request: emitId, status: 0, body: Array(#"["pong from S"]"#.utf8)))
        #expect(
            try requester.next().map { Self.text($0.1) }
                == #"{"type":10,"data":{"requestId":"7ad013693962e83d","packet":"pong from S"},"uid":"\#(f.member.uid)","nsp":"/"}"#
        )
        // socketsJoin from a stock node: applied by the node (APPLY), no answer.
        try requester.publish(
            "socket.io#/#",
            Array(#"{"type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["room2"]},"uid":"9ffc6a0edde9fe4b","nsp":"/"}"#.utf8)
        )
        guard case .apply(.join, "/", let rooms, let except, let targets, _)? = try Self.nextFrame(client) else {
            Issue.record("APPLY expected")
            return
        }
        #expect(rooms.isEmpty && except.isEmpty && targets == [.name("room2")])
    }

    @Test func answersAStockAckedBroadcastWithCountThenAcks() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let requester = try RawShardPeer(f.server, channels: ["socket.io#/#\(Self.stockUid)#"])
        let request = #"{"type":3,"data":{"packet":{"type":2,"data":["ack-me",5]},"requestId":"0ad4368fc0b69b07","opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}},"uid":"9ffc6a0edde9fe4b","nsp":"/"}"#
        try requester.publish("socket.io#/#", Array(request.utf8))
        guard case .deliverToRooms(let ackId, _, "/", _, _, let packet, _)? = try Self.nextFrame(client) else {
            Issue.record("DELIVER_TO_ROOMS expected")
            return
        }
        #expect(ackId != 0 && Self.text(packet) == #"2\#(ackId)["ack-me",5]"#)
        client.send(.delivered(ackId: ackId, namespace: "/", socketIds: [Self.sid]))
        #expect(
            try requester.next().map { Self.text($0.1) }
                == #"{"type":11,"data":{"requestId":"0ad4368fc0b69b07","clientCount":1},"uid":"\#(f.member.uid)","nsp":"/"}"#
        )
        client.send(.acked(ackId: ackId, socketId: Self.sid, status: .delivered, arguments: Array(#"[{"got":5}]"#.utf8)))
        #expect(
            try requester.next().map { Self.text($0.1) }
                == #"{"type":12,"data":{"requestId":"0ad4368fc0b69b07","packet":{"got":5}},"uid":"\#(f.member.uid)","nsp":"/"}"#
        )
    }

    @Test func theNodesCallsGoOutInTheShardedForm() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        // One stock server: SSUBSCRIBEd to the main channel and its own.
        let stock = try RawShardPeer(f.server, channels: ["socket.io#/#", "socket.io#/#\(Self.stockUid)#"])
        client.send(.clusterRequest(request: 7, kind: 1, namespace: "/", timeoutMilliseconds: 1000, body: []))
        guard case .clusterReply(7, 0, let count)? = try Self.nextFrame(client) else {
            Issue.record("CLUSTER_REPLY expected")
            return
        }
        #expect(Self.text(count) == #"{"count":2}"#)

        client.send(
            .clusterRequest(request: 8, kind: 2, namespace: "/", timeoutMilliseconds: 2000, body: Array(#"{"rooms":[123],"except":[]}"#.utf8))
        )
        guard let (channel, fetch) = try stock.nextMessage(), case .fetchSockets(let options, let requestId) = fetch.body else {
            Issue.record("the stock server got no FETCH_SOCKETS")
            return
        }
        #expect(channel == "socket.io#/#" && options.rooms == [.number(123)] && fetch.uid == f.member.uid)
        #expect(requestId.utf8.count == 16)
        let answer = ShardedMessage(
            .fetchSocketsResponse(requestId: requestId, sockets: [.object(JSObject([("id", .string("Z")), ("rooms", .array([.string("Z"), .number(123)]))]))]),
            uid: Self.stockUid,
            namespace: "/"
        )
        try stock.publish("socket.io#/#\(f.member.uid)#", try answer.encode())
        guard case .clusterReply(8, 0, let body)? = try Self.nextFrame(client) else {
            Issue.record("CLUSTER_REPLY expected")
            return
        }
        #expect(Self.text(body) == #"{"sockets":[{"id":"Z","rooms":["Z",123]}]}"#)

        // The node's own broadcast to one public room: on that room's channel, as a stock node.
        let newsWatcher = try RawShardPeer(f.server, channels: ["socket.io#/#news#"])
        client.send(
            .roomsBroadcast(namespace: "/", flags: DeliveryFlags(), rooms: [.name("news")], except: [], packet: Array(#"2["headline","x"]"#.utf8), attachments: [])
        )
        #expect(
            try newsWatcher.next().map { Self.text($0.1) }
                == #"{"type":3,"data":{"packet":{"type":2,"data":["headline","x"]},"opts":{"rooms":["news"],"except":[],"flags":{}}},"uid":"\#(f.member.uid)","nsp":"/"}"#
        )
        // socketsJoin: SOCKETS_JOIN on the main channel; it comes back to busd, which has the node apply it.
        client.send(
            .clusterRequest(request: 9, kind: 4, namespace: "/", timeoutMilliseconds: 1000, body: Array(#"{"opts":{"rooms":[],"except":[]},"rooms":["vip"]}"#.utf8))
        )
        guard let (_, join) = try stock.nextMessage() else {
            Issue.record("SOCKETS_JOIN expected")
            return
        }
        #expect(join.body == .socketsJoin(options: .init(), rooms: [.name("vip")]))
        var sawApply = false
        while let frame = try Self.nextFrame(client, timeout: .seconds(2)) {
            if case .apply(.join, "/", _, _, [.name("vip")], _) = frame {
                sawApply = true
                break
            }
        }
        #expect(sawApply)
    }
}

extension ShardedMemberTests {
    /// Dynamic mode: room traffic for rooms the node has no socket in never
    /// reaches busd (Redis does not send it), unlike the classic adapter's
    /// PSUBSCRIBE, where busd reads and drops it.
    @Test func roomTrafficOfOtherNodesRoomsIsNotReceived() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let peer = try RawShardPeer(f.server, channels: [])
        let before = f.member.statistics.received
        let elsewhere = #"{"type":3,"data":{"packet":{"type":2,"data":["x"]},"opts":{"rooms":["elsewhere"],"except":[],"flags":{}}},"uid":"9ffc6a0edde9fe4b","nsp":"/"}"#
        for _ in 0..<100 { try peer.publish("socket.io#/#elsewhere#", Array(elsewhere.utf8)) }
        // The node's own room, after them: once it is delivered, the others would have been read first.
        try peer.publish("socket.io#/#news#", Array(elsewhere.replacingOccurrences(of: "elsewhere", with: "news").utf8))
        guard case .deliverToRooms(_, _, "/", [.name("news")], _, _, _)? = try Self.nextFrame(client) else {
            Issue.record("DELIVER_TO_ROOMS for news expected")
            return
        }
        #expect(f.member.statistics.received == before + 1)
    }

    @Test func allRoomsIsRefusedAtOnce() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        client.send(.clusterRequest(request: 3, kind: 3, namespace: "/", timeoutMilliseconds: 5000, body: []))
        guard case .clusterReply(3, 2, let body)? = try Self.nextFrame(client, timeout: .seconds(1)) else {
            Issue.record("a failed CLUSTER_REPLY expected at once")
            return
        }
        #expect(Self.text(body).contains("not part of the sharded adapter"))
    }

    @Test func aRestartedRedisGetsEverySubscriptionBack() throws {
        let f = try Self.fixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        try f.server.restart()
        let peer = try RawShardPeer(f.server, channels: [])
        #expect(eventually { (try? peer.shardCount("socket.io#/#")) == 1 })
        #expect(try peer.shardCount("socket.io#/#\(f.member.uid)#") == 1)
        #expect(try peer.shardCount("socket.io#/#news#") == 1 && peer.shardCount("socket.io#/#123#") == 1)
        // A room joined after the restart is subscribed as before.
        client.send(.roomsJoin(namespace: "/", socketId: Self.sid, rooms: [.name("late")]))
        #expect(eventually { (try? peer.shardCount("socket.io#/#late#")) == 1 })
    }
}
