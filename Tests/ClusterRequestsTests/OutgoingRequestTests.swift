import ClusterRequests
import SocketIOCodec
import Testing

/// The node's CLUSTER_REQUESTs: NUMSUB, the stock request, answers by
/// requestId, one CLUSTER_REPLY (complete or partial at the time-out).
@Suite("Outgoing cluster requests")
struct OutgoingRequestTests {
    var machine = OutgoingRequests(settings: .init(uid: "osO7f9"), makeRequestId: { "riA29h" })

    func response(_ json: String) throws -> ResponseMessage {
        guard
            case .response(let r) = try AdapterMessage.decode(
                Array(json.utf8),
                channel: AdapterChannel(parsing: "socket.io-response#/#")
            )
        else { throw Unexpected() }
        return r
    }

    func replyText(_ actions: [ClusterAction]) -> (ClusterReplyStatus, String)? {
        guard actions.count == 1, case .reply(_, let status, let body) = actions[0] else { return nil }
        return (status, String(decoding: body, as: UTF8.self))
    }

    mutating func start(_ kind: UInt8, _ body: String, servers: Int, now: UInt64 = 0, timeout: UInt32 = 5000)
        -> [ClusterAction]
    {
        let asked = machine.request(
            1,
            kind: kind,
            namespace: "/",
            timeoutMilliseconds: timeout,
            body: Array(body.utf8),
            now: now
        )
        #expect(asked == [.countServers(request: 1, namespace: "/")])
        return machine.serverCount(request: 1, result: .success(servers), now: now)
    }

    @Test mutating func serverCountIsNumsub() {
        let actions = start(1, "", servers: 3)
        #expect(replyText(actions)?.0 == .complete)
        #expect(replyText(actions)?.1 == #"{"count":3}"#)
    }

    @Test mutating func aRedisErrorIsAFailureNotAnEmptyResult() {
        _ = machine.request(
            1,
            kind: 2,
            namespace: "/",
            timeoutMilliseconds: 5000,
            body: Array(#"{"rooms":[],"except":[]}"#.utf8),
            now: 0
        )
        let actions = machine.serverCount(request: 1, result: .failure(ServerCountError("ERR unknown command")), now: 0)
        #expect(replyText(actions)?.0 == .failed)
        #expect(replyText(actions)?.1 == #"{"error":"ERR unknown command"}"#)
    }

    @Test mutating func fetchSocketsPublishesTheStockRequestAndCollectsEveryOtherServer() throws {
        let published = start(2, #"{"rooms":[],"except":[]}"#, servers: 3)
        // seq 38, byte for byte.
        #expect(
            published == [
                .publish(
                    channel: "socket.io-request#/#",
                    payload: Array(
                        #"{"uid":"osO7f9","requestId":"riA29h","type":5,"opts":{"rooms":[],"except":[]}}"#.utf8
                    )
                )
            ]
        )
        #expect(machine.owns("riA29h"))
        #expect(
            machine.response(
                try response(
                    #"{"requestId":"riA29h","sockets":[{"id":"A","handshake":{},"rooms":["A"],"data":{"n":1}}]}"#
                )
            ).isEmpty
        )
        // Someone else's answer is not ours.
        #expect(machine.response(try response(#"{"requestId":"zzzzzz","sockets":[]}"#)).isEmpty)
        let done = machine.response(
            try response(#"{"requestId":"riA29h","sockets":[{"id":"B","handshake":{},"rooms":[7]}]}"#)
        )
        #expect(replyText(done)?.0 == .complete)
        #expect(
            replyText(done)?.1
                == #"{"sockets":[{"id":"A","handshake":{},"rooms":["A"],"data":{"n":1}},{"id":"B","handshake":{},"rooms":[7]}]}"#
        )
        #expect(!machine.owns("riA29h"))
        #expect(machine.pendingCount == 0)
    }

    @Test mutating func fetchSocketsTimesOutWithThePartialResult() throws {
        _ = start(2, #"{"rooms":["r"],"except":[]}"#, servers: 3, now: 100, timeout: 1000)
        _ = machine.response(try response(#"{"requestId":"riA29h","sockets":[{"id":"A"}]}"#))
        #expect(machine.nextDeadline == 1100)
        #expect(machine.expire(now: 1099).isEmpty)
        let expired = machine.expire(now: 1100)
        #expect(replyText(expired)?.0 == .timedOut)
        #expect(replyText(expired)?.1 == #"{"sockets":[{"id":"A"}]}"#)
        // A late answer finds nothing.
        #expect(machine.response(try response(#"{"requestId":"riA29h","sockets":[]}"#)).isEmpty)
    }

    @Test mutating func aloneInTheClusterRepliesAtOnce() {
        #expect(replyText(start(2, #"{"rooms":[],"except":[]}"#, servers: 1))?.1 == #"{"sockets":[]}"#)
        #expect(replyText(start(3, "", servers: 0))?.1 == #"{"rooms":[]}"#)
        #expect(replyText(start(8, #"["x"]"#, servers: 1))?.1 == #"{"responses":[],"expected":0}"#)
    }

    @Test mutating func allRoomsMergesAsASet() throws {
        let published = start(3, "", servers: 3)
        #expect(texts(published) == [#"{"uid":"osO7f9","requestId":"riA29h","type":1}"#])
        _ = machine.response(try response(#"{"requestId":"riA29h","rooms":["a",123,"123"]}"#))
        let done = machine.response(try response(#"{"requestId":"riA29h","rooms":[123,"b","a"]}"#))
        #expect(replyText(done)?.1 == #"{"rooms":["a",123,"123","b"]}"#)
    }

    @Test mutating func serverSideEmitWithAckCollectsTheResponsesAndSaysHowManyWereExpected() throws {
        let published = start(8, #"["ssping",{"from":"n1"}]"#, servers: 4, timeout: 500)
        // seq 45's shape.
        #expect(
            texts(published) == [#"{"uid":"osO7f9","requestId":"riA29h","type":6,"data":["ssping",{"from":"n1"}]}"#]
        )
        _ = machine.response(try response(#"{"type":6,"requestId":"riA29h","data":{"node":"n2"}}"#))
        _ = machine.response(try response(#"{"type":6,"requestId":"riA29h"}"#))
        let expired = machine.expire(now: 500)
        #expect(replyText(expired)?.0 == .timedOut)
        #expect(replyText(expired)?.1 == #"{"responses":[{"node":"n2"},null],"expected":3}"#)
    }

    @Test mutating func publishedOnlyKinds() {
        func published(_ kind: UInt8, _ body: String) -> [String] {
            texts(
                machine.request(9, kind: kind, namespace: "/", timeoutMilliseconds: 0, body: Array(body.utf8), now: 0)
            )
        }
        #expect(
            published(4, #"{"opts":{"rooms":[123],"except":[]},"rooms":["j"]}"#) == [
                #"{"uid":"osO7f9","type":2,"opts":{"rooms":[123],"except":[]},"rooms":["j"]}"#
            ]
        )
        #expect(
            published(5, #"{"opts":{"rooms":["a"],"except":["b"]},"rooms":["a"]}"#) == [
                #"{"uid":"osO7f9","type":3,"opts":{"rooms":["a"],"except":["b"]},"rooms":["a"]}"#
            ]
        )
        #expect(
            published(6, #"{"opts":{"rooms":[],"except":[]},"close":true}"#) == [
                #"{"uid":"osO7f9","type":4,"opts":{"rooms":[],"except":[]},"close":true}"#
            ]
        )
        // seq 44, byte for byte.
        #expect(
            published(7, #"["hello","world",{"x":1}]"#) == [
                #"{"uid":"osO7f9","type":6,"data":["hello","world",{"x":1}]}"#
            ]
        )
        #expect(machine.pendingCount == 0)
    }

    @Test(arguments: [
        (UInt8(9), ""), (UInt8(2), "{oops"), (UInt8(2), #"{"rooms":[true]}"#), (UInt8(4), #"{"rooms":["a"]}"#),
        (UInt8(7), #"{"event":"x"}"#), (UInt8(8), "1"),
    ])
    mutating func unusableRequestsFail(_ kind: UInt8, _ body: String) {
        let actions = machine.request(
            3,
            kind: kind,
            namespace: "/",
            timeoutMilliseconds: 0,
            body: Array(body.utf8),
            now: 0
        )
        #expect(replyText(actions)?.0 == .failed)
        #expect(machine.pendingCount == 0)
    }

    @Test mutating func broadcastWithAckIsTheStockMsgpackRequestAndRelaysCountsAndAcks() throws {
        let packet = SocketIOPacket(
            type: 2,
            namespace: "/",
            data: .array([.string("ev"), .object(JSObject([("ask", .number(1))]))])
        )
        var machine = OutgoingRequests(settings: .init(uid: "osO7f9"), makeRequestId: { "bpevJE" })
        let published = machine.broadcastWithAck(
            4,
            namespace: "/",
            packet: packet,
            rooms: [],
            except: [],
            flags: OutgoingRequests.flags(volatile: false, compress: nil, timeoutMilliseconds: 2000),
            timeoutMilliseconds: 2000,
            now: 0
        )
        // seq 28, byte for byte.
        #expect(published == [.publish(channel: "socket.io-request#/#", payload: IncomingBroadcastTests.capture(28))])
        #expect(machine.owns("bpevJE"))
        func decoded(_ seq: Int) throws -> ResponseMessage {
            guard
                case .response(let r) = try AdapterMessage.decode(
                    IncomingBroadcastTests.capture(seq),
                    channel: AdapterChannel(parsing: "socket.io-response#/#")
                )
            else { throw Unexpected() }
            return r
        }
        #expect(machine.response(try decoded(29)) == [.ackCount(request: 4, clientCount: 2)])
        #expect(
            machine.response(try decoded(30)) == [
                .ackArgument(request: 4, argument: Array(#"{"client":"A","event":"ev","n":1}"#.utf8))
            ]
        )
        _ = machine.expire(now: 2000)
        #expect(!machine.owns("bpevJE"))
        #expect(machine.response(try decoded(31)).isEmpty)
    }

    @Test mutating func theNodeGoingAwayDropsEverything() {
        _ = start(2, #"{"rooms":[],"except":[]}"#, servers: 3)
        machine.nodeGone()
        #expect(machine.pendingCount == 0)
        #expect(machine.nextDeadline == nil)
    }

    @Test func requestIdsAreSixBase64urlCharacters() {
        for _ in 0..<100 {
            let id = RequestIds.random()
            #expect(id.count == 6)
            #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
    }
}
