import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// busd as a member of the cluster on a real redis-server, with a raw
/// local-protocol v2 client as its node and raw Redis connections as the
/// other servers (captured requests of socket.io 4.8.1 + redis-adapter 8.3.0).
@Suite("Cluster requests against a real redis-server", .serialized)
struct ClusterRequestsRedisTests {
    static let sid = "AgUEon6wzXtHqqioAAAB"

    static func capture(_ seq: Int) -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SocketIOCodecTests/Fixtures/captured.jsonl")
        let lines = (FileManager.default.contents(atPath: url.path) ?? Data()).split(separator: UInt8(ascii: "\n"))
        for line in lines {
            guard let object = try? JSONParser().parse(Array(line)), object["seq"]?.numberValue == Double(seq),
                let hex = object["hex"]?.stringValue
            else { continue }
            return Hex.bytes(hex)
        }
        return []
    }

    /// A v2 node with one socket in room 123 (a number) and "room1".
    static func v2Node(_ f: NodeLinkFixture) throws -> TestNodeClient {
        let client = try TestNodeClient(path: f.path)
        client.send(.hello(version: 2, node: "test-node", pid: 1))
        #expect(try client.receive()?.name == "WELCOME")
        client.send(.namespace("/"))
        client.send(.socketConnect(namespace: "/", socketId: sid, connectedAt: 1))
        client.send(.roomsJoin(namespace: "/", socketId: sid, rooms: [.name(sid), .number(123), .name("room1")]))
        #expect(eventually { f.member.socket(sid)?.typedRooms.count == 2 && f.member.subscribedChannels.count == 3 })
        return client
    }

    static func publish(_ f: NodeLinkFixture, _ channel: String, _ payload: [UInt8]) throws {
        let redis = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        _ = try redis.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
    }

    /// The next frame that is not a PING (answered).
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

    @Test func numsubCountsBusdOnEveryChannelOfANamespace() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        client.send(.namespace("/chat"))
        #expect(eventually { f.member.subscribedChannels.count == 6 })
        let redis = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        for channel in [
            "socket.io-request#/#", "socket.io-response#/#", "socket.io-response#/#\(f.member.uid)#",
            "socket.io-request#/chat#",
        ] {
            #expect(
                try redis.command(["PUBSUB", "NUMSUB", channel]) == .array([.bulk(Array(channel.utf8)), .integer(1)])
            )
        }
        // Kept while the node is away: busd answers for it.
        client.disconnect()
        #expect(eventually { f.member.nodeSessionVersion == 0 })
        #expect(
            try redis.command(["PUBSUB", "NUMSUB", "socket.io-request#/#"])
                == .array([.bulk(Array("socket.io-request#/#".utf8)), .integer(1)])
        )
    }

    @Test func stockFetchSocketsIsAskedOfTheNodeAndAnsweredInStockFormat() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let responses = try RawSubscriber(f.server, channels: ["socket.io-response#/#"])
        // Shared by the whole test process: other tests only add to it.
        let answersTimed = { LatencyHistograms.shared.requestAnswer.snapshot.count }
        let timedBefore = answersTimed()
        // seq 38: n1's `await io.fetchSockets()`.
        try Self.publish(f, "socket.io-request#/#", Self.capture(38))
        guard case .question(let request, 1, "/", let body)? = try Self.nextFrame(client) else {
            Issue.record("QUESTION expected")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == #"{"rooms":[],"except":[]}"#)
        let sockets =
            #"[{"id":"AgUEon6wzXtHqqioAAAB","handshake":{"auth":{"user":"A"}},"rooms":["AgUEon6wzXtHqqioAAAB",123,"room1"],"data":{"nodeId":"n2"}}]"#
        client.send(.answer(request: request, status: 0, body: Array(sockets.utf8)))
        #expect(try responses.nextText() == #"{"requestId":"riA29h","sockets":"# + sockets + "}")
        #expect(eventually { answersTimed() >= timedBefore + 1 }, "the node's answer is timed")
        let timedAfterNode = answersTimed()

        // ALL_ROOMS from the registry, numbers as numbers, without a round trip.
        try Self.publish(f, "socket.io-request#/#", Array(#"{"uid":"other1","requestId":"vog6Y2","type":1}"#.utf8))
        #expect(try responses.nextText() == #"{"requestId":"vog6Y2","rooms":["AgUEon6wzXtHqqioAAAB",123,"room1"]}"#)
        #expect(eventually { answersTimed() >= timedAfterNode + 1 }, "busd's own answer is timed")
        #expect(f.member.clusterStatistics.requestsIn["REMOTE_FETCH"] == 1)
        // busd hears its own answers on the shared channel: skipped, not parsed.
        #expect(eventually { f.member.statistics.responsesSkipped == 2 && f.member.statistics.malformed == 0 })
    }

    @Test func aNodeThatDoesNotAnswerIsAnsweredForWithinTheBound() throws {
        let f = try NodeLinkFixture(configure: { $0.nodeAnswerTimeout = .milliseconds(300) })
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let responses = try RawSubscriber(f.server, channels: ["socket.io-response#/#"])
        let started = ContinuousClock.now
        try Self.publish(f, "socket.io-request#/#", Self.capture(38))
        #expect(try Self.nextFrame(client)?.name == "QUESTION")
        #expect(try responses.nextText() == #"{"requestId":"riA29h","sockets":[]}"#)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(300) && waited < .seconds(2), "\(waited)")
        #expect(f.member.clusterStatistics.answersMissed["fetch"] == 1)
    }

    @Test func ackedBroadcastFromAStockNodeIsDeliveredCountedAndAcked() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        let responses = try RawSubscriber(f.server, channels: ["socket.io-response#/#"])
        // seq 28: n1's `io.timeout(2000).emit('ev', {ask:1}, cb)`.
        try Self.publish(f, "socket.io-request#/#", Self.capture(28))
        guard
            case .deliverToRooms(let ackId, _, "/", let rooms, let except, let packet, _)? = try Self.nextFrame(client)
        else {
            Issue.record("DELIVER_TO_ROOMS expected")
            return
        }
        #expect(ackId != 0 && rooms.isEmpty && except.isEmpty)
        #expect(String(decoding: packet, as: UTF8.self) == "2\(ackId)[\"ev\",{\"ask\":1}]")
        client.send(.delivered(ackId: ackId, namespace: "/", socketIds: [Self.sid]))
        #expect(try responses.nextText() == #"{"type":8,"requestId":"bpevJE","clientCount":1}"#)
        client.send(
            .acked(
                ackId: ackId,
                socketId: Self.sid,
                status: .delivered,
                arguments: Array(#"[{"client":"A","event":"ev","n":1}]"#.utf8)
            )
        )
        // seq 30, byte for byte (msgpack).
        #expect(try responses.next()?.1 == Self.capture(30))
    }

    @Test func theNodesFetchSocketsCollectsTheOtherServersAndTimesOutWithAPartialResult() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try Self.v2Node(f)
        // Two simulated stock servers: each counted by NUMSUB; only the first answers.
        let stock1 = try RawSubscriber(f.server, channels: ["socket.io-request#/#"])
        let stock2 = try RawSubscriber(f.server, channels: ["socket.io-request#/#"])
        client.send(.clusterRequest(request: 7, kind: 1, namespace: "/", timeoutMilliseconds: 1000, body: []))
        guard case .clusterReply(7, 0, let count)? = try Self.nextFrame(client) else {
            Issue.record("CLUSTER_REPLY expected")
            return
        }
        #expect(String(decoding: count, as: UTF8.self) == #"{"count":3}"#)

        let started = ContinuousClock.now
        client.send(
            .clusterRequest(
                request: 8,
                kind: 2,
                namespace: "/",
                timeoutMilliseconds: 600,
                body: Array(#"{"rooms":[123],"except":[]}"#.utf8)
            )
        )
        guard let (_, published) = try stock1.next(),
            case .request(let request) = try AdapterMessage.decode(
                published,
                channel: .request(key: "socket.io", namespace: "/")
            ),
            let requestId = request.requestId
        else {
            Issue.record("the stock server got no REMOTE_FETCH")
            return
        }
        #expect(
            String(decoding: published, as: UTF8.self)
                == #"{"uid":"\#(f.member.uid)","requestId":"\#(requestId)","type":5,"opts":{"rooms":[123],"except":[]}}"#
        )
        #expect(requestId.count == 6)
        #expect(try stock2.next() != nil)
        try Self.publish(
            f,
            "socket.io-response#/#",
            Array(#"{"requestId":"\#(requestId)","sockets":[{"id":"Z","handshake":{},"rooms":["Z",123]}]}"#.utf8)
        )
        guard case .clusterReply(8, let status, let body)? = try Self.nextFrame(client) else {
            Issue.record("CLUSTER_REPLY expected")
            return
        }
        let waited = ContinuousClock.now - started
        #expect(status == 1)
        #expect(String(decoding: body, as: UTF8.self) == #"{"sockets":[{"id":"Z","handshake":{},"rooms":["Z",123]}]}"#)
        #expect(waited >= .milliseconds(600) && waited < .seconds(2), "\(waited)")

        // Both answer: complete, before the time-out.
        client.send(.clusterRequest(request: 9, kind: 3, namespace: "/", timeoutMilliseconds: 3000, body: []))
        guard let (_, allRooms) = try stock1.next(),
            case .request(let roomsRequest) = try AdapterMessage.decode(
                allRooms,
                channel: .request(key: "socket.io", namespace: "/")
            ),
            let roomsId = roomsRequest.requestId
        else {
            Issue.record("the stock server got no ALL_ROOMS")
            return
        }
        _ = try stock2.next()
        try Self.publish(f, "socket.io-response#/#", Array(#"{"requestId":"\#(roomsId)","rooms":["a",1]}"#.utf8))
        try Self.publish(f, "socket.io-response#/#", Array(#"{"requestId":"\#(roomsId)","rooms":["b",1]}"#.utf8))
        guard case .clusterReply(9, 0, let rooms)? = try Self.nextFrame(client) else {
            Issue.record("CLUSTER_REPLY expected")
            return
        }
        #expect(String(decoding: rooms, as: UTF8.self) == #"{"rooms":["a",1,"b"]}"#)
    }

    @Test func withoutANodeBusdAnswersAsAnEmptyNode() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        #expect(eventually { f.member.subscribedChannels.count == 3 })
        let responses = try RawSubscriber(f.server, channels: ["socket.io-response#/#"])
        try Self.publish(f, "socket.io-request#/#", Self.capture(38))
        #expect(try responses.nextText() == #"{"requestId":"riA29h","sockets":[]}"#)
        try Self.publish(f, "socket.io-request#/#", Self.capture(47))
        #expect(try responses.nextText() == #"{"requestId":"vog6Y2","rooms":[]}"#)
        try Self.publish(f, "socket.io-request#/#", Self.capture(28))
        #expect(try responses.nextText() == #"{"type":8,"requestId":"bpevJE","clientCount":0}"#)
        // serverSideEmit with an ack: no reply (an empty node has no handler).
        try Self.publish(f, "socket.io-request#/#", Self.capture(45))
        #expect(try responses.next(timeout: .milliseconds(300)) == nil)
    }

    /// Redis gone: the node's call fails at once with the reason (status 2),
    /// never an empty result.
    @Test func theNodesRequestFailsWhenRedisIsGone() throws {
        let f = try NodeLinkFixture(configure: { $0.redisTimeout = .milliseconds(300) })
        defer { f.stop() }
        let client = try Self.v2Node(f)
        f.server.kill()
        client.send(
            .clusterRequest(
                request: 3,
                kind: 2,
                namespace: "/",
                timeoutMilliseconds: 5000,
                body: Array(#"{"rooms":[],"except":[]}"#.utf8)
            )
        )
        guard case .clusterReply(3, 2, let body)? = try Self.nextFrame(client) else {
            Issue.record("CLUSTER_REPLY status 2 expected")
            return
        }
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.hasPrefix(#"{"error":"PUBSUB NUMSUB failed: "#), "\(text)")
    }
}
