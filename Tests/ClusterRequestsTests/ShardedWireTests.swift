import ClusterRequests
import SocketIOCodec
import Testing

/// The sharded wire form at the request machines' edge, without Redis.
@Suite("Sharded wire translation")
struct ShardedWireTests {
    static func wire() -> ShardedWire {
        ShardedWire(channels: ShardedChannels(mode: .dynamic), classic: ClusterChannels(), uid: "00000000000000aa")
    }

    @Test func aStockRequestBecomesTheClassicOneAndItsAnswerGoesToTheRequester() throws {
        var wire = Self.wire()
        let fetch = try ShardedMessage.decode(
            Array(#"{"type":7,"data":{"opts":{"rooms":["news"],"except":[5],"flags":{}},"requestId":"r1"},"uid":"0123456789abcdef","nsp":"/"}"#.utf8)
        )
        let translated = wire.request(fetch, namespace: "/", now: 0)
        let request = try #require(translated)
        #expect(request.kind == .remoteFetch(rooms: [.name("news")], except: [.number(5)]))
        #expect(request.requestId == "r1" && request.uid == "0123456789abcdef")
        // The machine's classic answer, translated.
        let answer = wire.publish(channel: "socket.io-response#/#", payload: Array(#"{"requestId":"r1","sockets":[]}"#.utf8), now: 1)
        let out = try #require(answer)
        #expect(out.channel == "socket.io#/#0123456789abcdef#")
        #expect(String(decoding: out.payload, as: UTF8.self) == #"{"type":8,"data":{"requestId":"r1","sockets":[]},"uid":"00000000000000aa","nsp":"/"}"#)
        // Answered once: a second answer to r1 has nobody to go to.
        let secondAnswer = wire.publish(channel: "socket.io-response#/#", payload: Array(#"{"requestId":"r1","sockets":[]}"#.utf8), now: 2)
        #expect(secondAnswer == nil)
        #expect(wire.rememberedRequesters == 0)
    }

    @Test func ackedBroadcastAnswersKeepTheirRequesterUntilRetention() throws {
        var wire = Self.wire()
        wire.retentionMilliseconds = 1000
        let broadcast = ShardedMessage(
            .broadcast(packet: JSObject([("type", .number(2)), ("data", .array([.string("e")]))]), requestId: "b1", options: .init()),
            uid: "0123456789abcdef",
            namespace: "/chat"
        )
        let translatedBroadcast = wire.request(broadcast, namespace: "/chat", now: 0)
        let request = try #require(translatedBroadcast)
        guard case .broadcast(let message) = request.kind else {
            Issue.record("BROADCAST expected")
            return
        }
        #expect(message.namespace == "/chat")
        let count = ResponseEncoding.broadcastClientCount(requestId: "b1", clientCount: 2)
        let countOut = wire.publish(channel: "socket.io-response#/chat#", payload: count, now: 10)
        #expect(countOut?.channel == "socket.io#/chat#0123456789abcdef#")
        let ack = try ResponseEncoding.broadcastAck(requestId: "b1", argument: .buffer([1]))
        let ackOut = wire.publish(channel: "socket.io-response#/chat#", payload: ack, now: 20)
        let out = try #require(ackOut)
        #expect(try ShardedMessage.decode(out.payload).body == .broadcastAck(requestId: "b1", packet: .buffer([1])))
        #expect(out.payload.first == 0x84)  // binary: msgpack, as a stock node
        // Past the retention (purged on the next request), the requester is forgotten.
        _ = wire.request(ShardedMessage(.fetchSockets(options: .init(), requestId: "x"), uid: "u", namespace: "/"), namespace: "/", now: 5000)
        let lateCount = wire.publish(channel: "socket.io-response#/chat#", payload: count, now: 5001)
        #expect(lateCount == nil)
    }

    @Test func theMachinesRequestsGoOutShardedAndAllRoomsHasNoForm() throws {
        var wire = Self.wire()
        let join = RequestEncoding.socketsJoinOrLeave(join: true, uid: "00000000000000aa", rooms: [], except: [.name("x")], joined: [.name("vip")])
        let joinOut = wire.publish(channel: "socket.io-request#/#", payload: join, now: 0)
        let out = try #require(joinOut)
        #expect(out.channel == "socket.io#/#")
        #expect(String(decoding: out.payload, as: UTF8.self) == #"{"type":4,"data":{"opts":{"rooms":[],"except":["x"],"flags":{}},"rooms":["vip"]},"uid":"00000000000000aa","nsp":"/"}"#)
        let allRoomsOut = wire.publish(channel: "socket.io-request#/#", payload: RequestEncoding.allRooms(uid: "u", requestId: "q"), now: 0)
        #expect(allRoomsOut == nil)
        // Responses from stock nodes become the classic ones the machine reads.
        let emitResponse = wire.response(ShardedMessage(.serverSideEmitResponse(requestId: "q", packet: .string("pong")), uid: "u", namespace: "/"))
        let response = try #require(emitResponse)
        #expect(response.kind == .serverSideEmit(.string("pong")) && response.requestId == "q")
        #expect(wire.response(ShardedMessage(.heartbeat, uid: "u", namespace: "/")) == nil)
    }
}
