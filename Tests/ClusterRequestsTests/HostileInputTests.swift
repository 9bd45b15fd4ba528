import ClusterRequests
import SocketIOCodec
import Testing

/// What other servers, emitters and the node may send that makes no sense:
/// never a trap, never a reply that lies.
@Suite("Hostile input to the request machines")
struct HostileInputTests {
    @Test(arguments: [
        #"{"uid":"o","type":0}"#,  // SOCKETS without requestId: nobody to answer
        #"{"uid":"o","type":5,"opts":{"rooms":[],"except":[]}}"#,
        #"{"uid":"o","requestId":"x","type":7,"packet":{"type":3,"data":["a"],"nsp":"/"},"opts":{"rooms":[],"except":[]}}"#,
        #"{"uid":"o","requestId":"x","type":1e300}"#,
        #"{"uid":"o","requestId":"x","type":-1}"#,
    ])
    func oddRequestsAreAnsweredAsAStockNodeWouldOrNotAtAll(_ json: String) throws {
        var machine = IncomingRequests(settings: .init(uid: "busdUI"))
        guard let decoded = try? request(json) else { return }  // the codec refuses it: counted as malformed
        let actions = machine.receive(
            decoded,
            namespace: "/",
            node: .v2,
            registry: FixedRegistry.sample,
            isOwn: false,
            now: 0,
            nextAckId: { 1 }
        )
        for action in actions {
            // A BROADCAST whose packet is no event is counted 0, never delivered.
            if case .deliver = action { Issue.record("delivered \(json)") }
        }
    }

    @Test func answersAndDeliveriesNobodyAskedForAreIgnored() {
        var machine = IncomingRequests(settings: .init(uid: "busdUI"))
        #expect(machine.answered(request: 0, status: 0, body: Array("[".utf8)).isEmpty)
        #expect(machine.answered(request: .max, status: 9, body: []).isEmpty)
        #expect(machine.delivered(ackId: .max, socketIds: ["a"]).isEmpty)
        #expect(machine.acked(ackId: 0, arguments: []) == nil)
        #expect(machine.expire(now: .max).isEmpty)
    }

    @Test func extremeTimeoutsDoNotTrap() {
        var machine = OutgoingRequests(settings: .init(uid: "osO7f9"), makeRequestId: { "abcdef" })
        _ = machine.request(
            1,
            kind: 2,
            namespace: "/",
            timeoutMilliseconds: .max,
            body: Array(#"{"rooms":[],"except":[]}"#.utf8),
            now: .max - 10
        )
        // The deadline saturates: the request is published, and times out only at the end of time.
        let published = machine.serverCount(request: 1, result: .success(Int(Int32.max)), now: .max - 10)
        #expect(published.first?.publishedChannel == "socket.io-request#/#")
        #expect(machine.expire(now: .max - 1).isEmpty)
        #expect(machine.expire(now: .max).count == 1)
        let packet = SocketIOPacket(type: 2, data: .array([.string("x")]))
        _ = machine.broadcastWithAck(
            2,
            namespace: "/",
            packet: packet,
            rooms: [],
            except: [],
            flags: OutgoingRequests.flags(volatile: true, compress: false, timeoutMilliseconds: .max),
            timeoutMilliseconds: .max,
            now: .max
        )
        #expect(machine.pendingCount == 1)
    }

    @Test(arguments: [
        #"{"requestId":"abcdef","sockets":"no"}"#,
        #"{"requestId":"abcdef","rooms":{}}"#,
        #"{"requestId":"abcdef","type":8,"clientCount":1e12}"#,
        #"{"requestId":"abcdef"}"#,
    ])
    func malformedAnswersCountAsAnswersButAddNothing(_ json: String) throws {
        var machine = OutgoingRequests(settings: .init(uid: "osO7f9"), makeRequestId: { "abcdef" })
        _ = machine.request(
            1,
            kind: 2,
            namespace: "/",
            timeoutMilliseconds: 100,
            body: Array(#"{"rooms":[],"except":[]}"#.utf8),
            now: 0
        )
        _ = machine.serverCount(request: 1, result: .success(2), now: 0)
        guard
            case .response(let response)? = try? AdapterMessage.decode(
                Array(json.utf8),
                channel: AdapterChannel(parsing: "socket.io-response#/#")
            )
        else { return }
        let actions = machine.response(response)
        guard case .reply(1, .complete, let body)? = actions.first else {
            Issue.record("expected the reply: every answer counts, as in the stock requester")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == #"{"sockets":[]}"#)
    }

    /// A node answer that is not the JSON it should be is answered for the
    /// node as an empty node would, never passed on.
    @Test(arguments: ["", "null", "{}", "[1,", #"{"id":1}"#])
    func malformedFetchAnswersBecomeEmpty(_ body: String) throws {
        var machine = IncomingRequests(settings: .init(uid: "busdUI"))
        guard
            case .ask(let id, _, _, _)? = machine.receive(
                try request(#"{"uid":"o","requestId":"riA29h","type":5,"opts":{"rooms":[],"except":[]}}"#),
                namespace: "/",
                node: .v2,
                registry: FixedRegistry.sample,
                isOwn: false,
                now: 0,
                nextAckId: { 1 }
            ).first
        else { return }
        #expect(
            texts(machine.answered(request: id, status: 0, body: Array(body.utf8))) == [
                #"{"requestId":"riA29h","sockets":[]}"#
            ]
        )
    }
}

/// The requestId read from a response's first bytes (every captured JSON
/// response), and nil wherever a parser must decide.
@Suite("Response requestId peek")
struct ResponsePeekTests {
    @Test(arguments: Captured.messages("response").filter { $0.payload.first == UInt8(ascii: "{") })
    func capturedResponses(_ capture: Captured.Capture) throws {
        guard
            case .response(let response) = try AdapterMessage.decode(
                capture.payload,
                channel: AdapterChannel(parsing: capture.channel)
            )
        else { return }
        #expect(ResponsePeek.requestId(capture.payload) == response.requestId)
    }

    @Test(
        arguments: [
            (#"{"requestId":"abc"}"#, "abc"),
            (#"{"type":6,"requestId":"RSlA1K","data":1}"#, "RSlA1K"),
            (#"{"requestid":"abc"}"#, nil),
            (#"{"requestId":"a\"b"}"#, nil),
            (#"{"requestId":"abc"#, nil),
            (
                #"{"data":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","requestId":"abc"}"#,
                nil
            ),
            ("", nil),
            ("{", nil),
        ] as [(String, String?)]
    )
    func shapes(_ text: String, _ expected: String?) {
        #expect(ResponsePeek.requestId(Array(text.utf8)) == expected)
    }
}
