import ClusterRequests
import SocketIOCodec
import Testing

/// What only a v2 node knows: QUESTION, ANSWER, and the node's bound.
@Suite("Incoming requests asked of the node")
struct IncomingQuestionTests {
    var machine: IncomingRequests = {
        var settings = IncomingRequests.Settings(uid: "busdUI")
        settings.nodeAnswerTimeoutMilliseconds = 2000
        return IncomingRequests(settings: settings)
    }()

    mutating func receive(_ json: String, now: UInt64 = 1000) throws -> [ClusterAction] {
        machine.receive(
            try request(json),
            namespace: "/",
            node: .v2,
            registry: FixedRegistry.sample,
            isOwn: false,
            now: now,
            nextAckId: { 1 }
        )
    }

    static let fetch = #"{"uid":"osO7f9","requestId":"riA29h","type":5,"opts":{"rooms":[123],"except":["x"]}}"#
    static let emitWithAck = #"{"uid":"osO7f9","requestId":"RSlA1K","type":6,"data":["ssping",{"from":"n1"}]}"#

    @Test mutating func fetchIsAskedThenTheNodesSocketsArePublishedAsWritten() throws {
        let asked = try receive(Self.fetch)
        guard case .ask(let id, .fetch, "/", let body)? = asked.first, asked.count == 1 else {
            Issue.record("expected one QUESTION, got \(asked)")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == #"{"rooms":[123],"except":["x"]}"#)
        let sockets = #"[{"id":"S1","handshake":{"auth":{"u":1}},"rooms":["S1",123],"data":{"n":2}}]"#
        let answered = machine.answered(request: id, status: 0, body: Array(sockets.utf8))
        #expect(texts(answered) == [#"{"requestId":"riA29h","sockets":"# + sockets + "}"])
        #expect(machine.pendingQuestions == 0)
        // A second (late) answer is ignored.
        #expect(machine.answered(request: id, status: 0, body: Array(sockets.utf8)).isEmpty)
    }

    @Test(arguments: [(UInt8(1), "[]"), (UInt8(0), "{not json"), (UInt8(0), #"{"id":"x"}"#)])
    mutating func fetchTheNodeCannotAnswerIsAnsweredEmpty(_ status: UInt8, _ body: String) throws {
        guard case .ask(let id, _, _, _)? = try receive(Self.fetch).first else { return }
        #expect(
            texts(machine.answered(request: id, status: status, body: Array(body.utf8))) == [
                #"{"requestId":"riA29h","sockets":[]}"#
            ]
        )
    }

    @Test mutating func fetchPastTheBoundIsAnsweredForTheNodeAndCounted() throws {
        _ = try receive(Self.fetch, now: 1000)
        #expect(machine.nextDeadline == 3000)
        #expect(machine.expire(now: 2999).isEmpty)
        let expired = machine.expire(now: 3000)
        #expect(expired.first == .nodeAnswerMissed(kind: "fetch"))
        #expect(texts(expired) == [#"{"requestId":"riA29h","sockets":[]}"#])
        #expect(machine.nextDeadline == nil)
    }

    @Test mutating func serverSideEmitWithAckRepliesWithTheFirstArgument() throws {
        guard case .ask(let id, .serverSideEmit, _, let body)? = try receive(Self.emitWithAck).first else {
            Issue.record("expected a QUESTION")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == #"["ssping",{"from":"n1"}]"#)
        let answer = #"[{"node":"n2","got":[{"from":"n1"}]}]"#
        // seq 46, byte for byte.
        #expect(
            texts(machine.answered(request: id, status: 0, body: Array(answer.utf8)))
                == [#"{"type":6,"requestId":"RSlA1K","data":{"node":"n2","got":[{"from":"n1"}]}}"#]
        )
    }

    @Test mutating func serverSideEmitAckWithoutArgument() throws {
        guard case .ask(let id, _, _, _)? = try receive(Self.emitWithAck).first else { return }
        #expect(
            texts(machine.answered(request: id, status: 0, body: Array("[]".utf8))) == [
                #"{"type":6,"requestId":"RSlA1K"}"#
            ]
        )
    }

    /// An invented ack value would lie to the requester: no reply at all.
    @Test mutating func serverSideEmitTheNodeDoesNotAnswerGetsNoReply() throws {
        guard case .ask(let id, _, _, _)? = try receive(Self.emitWithAck).first else { return }
        #expect(machine.answered(request: id, status: 1, body: []).isEmpty)
        _ = try receive(Self.emitWithAck, now: 5000)
        #expect(machine.expire(now: 7000) == [.nodeAnswerMissed(kind: "server_side_emit")])
    }

    @Test mutating func customRequestIsAskedWithItsData() throws {
        guard
            case .ask(let id, .custom, _, let body)? = try receive(#"{"requestid":"Zx9cV7","type":5,"data":{"q":1}}"#)
                .first
        else {
            Issue.record("expected a QUESTION")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == #"{"q":1}"#)
        #expect(
            texts(machine.answered(request: id, status: 0, body: Array(#"{"a":[1,"x"]}"#.utf8))) == [
                #"{"requestid":"Zx9cV7","data":{"a":[1,"x"]}}"#
            ]
        )
    }

    @Test mutating func customRequestWithoutHookAnswerIsNull() throws {
        guard case .ask(let id, _, _, _)? = try receive(#"{"requestid":"Zx9cV7","type":5,"data":1}"#).first else {
            return
        }
        #expect(texts(machine.answered(request: id, status: 0, body: [])) == [#"{"requestid":"Zx9cV7","data":null}"#])
    }

    @Test mutating func theNodeGoingAwayAnswersWhatItWasAskedAtOnce() throws {
        _ = try receive(Self.fetch)
        _ = try receive(Self.emitWithAck)
        #expect(texts(machine.nodeGone()) == [#"{"requestId":"riA29h","sockets":[]}"#])
        #expect(machine.pendingQuestions == 0)
    }

    @Test mutating func questionIdsAreDistinctWhilePending() throws {
        var ids: Set<UInt32> = []
        for _ in 0..<50 {
            guard case .ask(let id, _, _, _)? = try receive(Self.fetch).first else { return }
            ids.insert(id)
        }
        #expect(ids.count == 50)
        #expect(!ids.contains(0))
    }
}
