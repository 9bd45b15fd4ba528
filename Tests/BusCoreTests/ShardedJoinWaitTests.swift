import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// CLUSTER_REQUEST kind 9 (ROOMS_SUBSCRIBED, docs/local-protocol-v2.md): the
/// node's join() waits until Redis has confirmed the SSUBSCRIBE of a new
/// room's channel, on a real redis-server.
@Suite("Sharded adapter: join() waits for the room channel", .serialized)
struct ShardedJoinWaitTests {
    static let sid = ShardedMemberTests.sid

    static func node(_ f: NodeLinkFixture) throws -> TestNodeClient {
        let client = try TestNodeClient(path: f.path)
        client.send(.hello(version: 2, node: "test-node", pid: 1))
        #expect(try client.receive()?.name == "WELCOME")
        client.send(.namespace("/"))
        client.send(.socketConnect(namespace: "/", socketId: sid, connectedAt: 1))
        return client
    }

    static func waitFor(_ rooms: String, request: UInt32, timeoutMs: UInt32 = 5000) -> LocalFrame {
        .clusterRequest(
            request: request,
            kind: 9,
            namespace: "/",
            timeoutMilliseconds: timeoutMs,
            body: Array(rooms.utf8)
        )
    }

    static func reply(_ client: TestNodeClient) throws -> (UInt32, UInt8, String)? {
        guard case .clusterReply(let request, let status, let body)? = try ShardedMemberTests.nextFrame(client) else {
            return nil
        }
        return (request, status, ShardedMemberTests.text(body))
    }

    @Test(arguments: [ShardedChannels.Mode.dynamic, .dynamicPrivate])
    func theReplyComesOnceRedisHasTheRoomChannel(_ mode: ShardedChannels.Mode) throws {
        let f = try ShardedMemberTests.fixture(mode)
        defer { f.stop() }
        let client = try Self.node(f)
        let peer = try RawShardPeer(f.server, channels: [])
        for (i, room) in ["fresh", "other"].enumerated() {
            client.send(.roomsJoin(namespace: "/", socketId: Self.sid, rooms: [.name(room)]))
            client.send(Self.waitFor(#"{"rooms":["\#(room)"]}"#, request: UInt32(10 + i)))
            let answer = try Self.reply(client)
            #expect(answer?.0 == UInt32(10 + i) && answer?.1 == 0 && answer?.2 == #"{"waits":true}"#)
            // Already subscribed when the reply is read: nothing polled here.
            #expect(try peer.shardCount("socket.io#/#\(room)#") == 1)
        }
        // A room whose channel was confirmed before: answered at once; a
        // socket-id room in dynamic (no channel) too.
        client.send(Self.waitFor(#"{"rooms":["fresh","\#(Self.sid)",123]}"#, request: 12))
        #expect(try Self.reply(client)?.1 == 0)
        #expect(f.member.roomChannelWaitsTimedOut == 0)
    }

    @Test func aBusdWithoutRoomChannelsSaysItNeverWaits() throws {
        for flavor in [AdapterFlavor.sharded(.static), .classic] {
            let f = try NodeLinkFixture(configure: { $0.adapterFlavor = flavor })
            defer { f.stop() }
            let client = try Self.node(f)
            client.send(.roomsJoin(namespace: "/", socketId: Self.sid, rooms: [.name("news")]))
            client.send(Self.waitFor(#"{"rooms":["news"]}"#, request: 3))
            let answer = try Self.reply(client)
            #expect(answer?.0 == 3 && answer?.1 == 0 && answer?.2 == #"{"waits":false}"#, "\(flavor)")
        }
    }

    @Test func notConfirmedInTimeIsAFailureWithinTheNodeAnswerTimeout() throws {
        let f = try NodeLinkFixture(configure: {
            $0.adapterFlavor = .sharded(.dynamic)
            $0.nodeAnswerTimeout = .milliseconds(200)
        })
        defer { f.stop() }
        let client = try Self.node(f)
        let peer = try RawShardPeer(f.server, channels: [])
        #expect(eventually { f.member.subscribedShardChannels.count >= 2 })
        // Redis runs no command for three seconds: the SSUBSCRIBE waits. The
        // pause is long so that an answer from the 200 ms time-out and one
        // from Redis waking up stay apart on a loaded machine.
        _ = try peer.publisher.command(["CLIENT", "PAUSE", "3000", "ALL"])
        let started = ContinuousClock.now
        client.send(.roomsJoin(namespace: "/", socketId: Self.sid, rooms: [.name("slow")]))
        client.send(Self.waitFor(#"{"rooms":["slow"]}"#, request: 4, timeoutMs: 5000))
        let answer = try Self.reply(client)
        let waited = ContinuousClock.now - started
        #expect(answer?.0 == 4 && answer?.1 == 2 && answer?.2.contains("did not confirm") == true)
        #expect(waited >= .milliseconds(150) && waited < .milliseconds(2500), "\(waited)")
        #expect(f.member.roomChannelWaitsTimedOut == 1 && f.member.roomChannelWaitsStarted == 1)
        // Once Redis runs again the channel is subscribed all the same (a new
        // connection per look: one that timed out in the pause is done for).
        #expect(
            eventually(timeout: .seconds(10)) {
                (try? RawShardPeer(f.server, channels: []).shardCount("socket.io#/#slow#")) == 1
            }
        )
    }

    @Test func aBodyWithoutRoomsIsUnusableAndTheLinkStays() throws {
        let f = try ShardedMemberTests.fixture()
        defer { f.stop() }
        let client = try Self.node(f)
        client.send(Self.waitFor(#"{"rooms":[{}]}"#, request: 5))
        guard case .error(let code, _)? = try ShardedMemberTests.nextFrame(client) else {
            Issue.record("ERROR 6 expected")
            return
        }
        #expect(code == 6)
        client.send(Self.waitFor(#"{"rooms":[]}"#, request: 6))
        #expect(try Self.reply(client)?.0 == 6)
    }
}
