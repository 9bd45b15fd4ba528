import ClusterRequests
import SocketIOCodec
import Testing

/// What busd answers from its registry, per node presence (the table
/// "What busd answers for the cluster" in docs/local-protocol-v2.md).
@Suite("Incoming requests answered from the registry")
struct IncomingAnswerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var request: String
        var node: NodePresence
        var published: [String]
        var testDescription: String { "\(name) (\(node))" }
    }

    static let cases: [Case] = [
        Case(
            name: "SOCKETS in room1",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":0,"rooms":["room1"]}"#,
            node: .v2,
            published: [#"{"requestId":"Qw8rT1","sockets":["S1"]}"#]
        ),
        Case(
            name: "SOCKETS all",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":0,"rooms":[]}"#,
            node: .v1,
            published: [#"{"requestId":"Qw8rT1","sockets":["S1","S2"]}"#]
        ),
        Case(
            name: "SOCKETS numeric room is not the string room",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":0,"rooms":[123]}"#,
            node: .v2,
            published: [#"{"requestId":"Qw8rT1","sockets":["S1"]}"#]
        ),
        Case(
            name: "SOCKETS string room is not the numeric room",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":0,"rooms":["123"]}"#,
            node: .v2,
            published: [#"{"requestId":"Qw8rT1","sockets":["S2"]}"#]
        ),
        Case(
            name: "SOCKETS no node",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":0,"rooms":[]}"#,
            node: .absent,
            published: [#"{"requestId":"Qw8rT1","sockets":[]}"#]
        ),
        Case(
            name: "legacy clients",
            request: #"{"requestid":"Zx9cV7","type":0,"rooms":["room1"]}"#,
            node: .v1,
            published: [#"{"requestid":"Zx9cV7","clients":["S1"]}"#]
        ),
        Case(
            name: "ALL_ROOMS numbers stay numbers",
            request: #"{"uid":"other1","requestId":"vog6Y2","type":1}"#,
            node: .v2,
            published: [#"{"requestId":"vog6Y2","rooms":["S1","room1",123,"S2","123"]}"#]
        ),
        Case(
            name: "ALL_ROOMS no node",
            request: #"{"uid":"other1","requestId":"vog6Y2","type":1}"#,
            node: .absent,
            published: [#"{"requestId":"vog6Y2","rooms":[]}"#]
        ),
        Case(
            name: "legacy allRooms",
            request: #"{"requestid":"Zx9cV7","type":2}"#,
            node: .v1,
            published: [#"{"requestid":"Zx9cV7","rooms":["S1","room1",123,"S2","123"]}"#]
        ),
        Case(
            name: "legacy clientRooms of a socket here",
            request: #"{"requestid":"Zx9cV7","type":1,"sid":"S2"}"#,
            node: .v2,
            published: [#"{"requestid":"Zx9cV7","rooms":["S2","123"]}"#]
        ),
        Case(
            name: "legacy clientRooms of a socket elsewhere",
            request: #"{"requestid":"Zx9cV7","type":1,"sid":"XX"}"#,
            node: .v2,
            published: []
        ),
        Case(
            name: "legacy clientRooms no node",
            request: #"{"requestid":"Zx9cV7","type":1,"sid":"S2"}"#,
            node: .absent,
            published: []
        ),
        Case(
            name: "REMOTE_FETCH v1 from the registry",
            request: #"{"uid":"other1","requestId":"riA29h","type":5,"opts":{"rooms":["room1"],"except":[]}}"#,
            node: .v1,
            published: [#"{"requestId":"riA29h","sockets":[{"id":"S1","handshake":{},"rooms":["S1","room1",123]}]}"#]
        ),
        Case(
            name: "REMOTE_FETCH except",
            request: #"{"uid":"other1","requestId":"riA29h","type":5,"opts":{"rooms":[],"except":[123]}}"#,
            node: .v1,
            published: [#"{"requestId":"riA29h","sockets":[{"id":"S2","handshake":{},"rooms":["S2","123"]}]}"#]
        ),
        Case(
            name: "REMOTE_FETCH no node",
            request: #"{"uid":"other1","requestId":"riA29h","type":5,"opts":{"rooms":[],"except":[]}}"#,
            node: .absent,
            published: [#"{"requestId":"riA29h","sockets":[]}"#]
        ),
        Case(
            name: "legacy remoteJoin of a socket here",
            request: #"{"requestid":"Zx9cV7","type":3,"sid":"S1","room":"new"}"#,
            node: .v1,
            published: [#"{"requestid":"Zx9cV7"}"#]
        ),
        Case(
            name: "legacy remoteDisconnect of a socket here",
            request: #"{"requestid":"Zx9cV7","type":6,"sid":"S1","close":true}"#,
            node: .v2,
            published: [#"{"requestid":"Zx9cV7"}"#]
        ),
        Case(
            name: "6.x remoteLeave of a socket here",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":3,"sid":"S1","room":"room1"}"#,
            node: .v2,
            published: [#"{"requestId":"Qw8rT1"}"#]
        ),
        Case(
            name: "6.x remoteJoin of a socket elsewhere",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":2,"sid":"XX","room":"r"}"#,
            node: .v2,
            published: []
        ),
        Case(
            name: "legacy remoteJoin no node",
            request: #"{"requestid":"Zx9cV7","type":3,"sid":"S1","room":"new"}"#,
            node: .absent,
            published: []
        ),
        Case(
            name: "legacy customRequest v1: the default customHook's null",
            request: #"{"requestid":"Zx9cV7","type":5,"data":{"q":1}}"#,
            node: .v1,
            published: [#"{"requestid":"Zx9cV7","data":null}"#]
        ),
        Case(
            name: "legacy customRequest no node",
            request: #"{"requestid":"Zx9cV7","type":5,"data":{"q":1}}"#,
            node: .absent,
            published: [#"{"requestid":"Zx9cV7","data":null}"#]
        ),
        Case(
            name: "unknown type",
            request: #"{"uid":"other1","requestId":"Qw8rT1","type":42}"#,
            node: .v2,
            published: []
        ),
    ]

    @Test(arguments: cases)
    func answers(_ c: Case) throws {
        var machine = IncomingRequests(settings: .init(uid: "busdUI"))
        let actions = machine.receive(
            try request(c.request),
            namespace: "/",
            node: c.node,
            registry: FixedRegistry.sample,
            isOwn: false,
            now: 0,
            nextAckId: { 1 }
        )
        #expect(texts(actions) == c.published)
        for action in actions where action.publishedChannel != nil {
            #expect(action.publishedChannel == "socket.io-response#/#")
        }
        #expect(machine.pendingQuestions == 0)
    }

    /// The requester hears its own request: SOCKETS, ALL_ROOMS, REMOTE_FETCH
    /// and BROADCAST with a requestId busd published are not answered.
    @Test(arguments: [
        #"{"uid":"busdUI","requestId":"Qw8rT1","type":0,"rooms":[]}"#,
        #"{"uid":"busdUI","requestId":"Qw8rT1","type":1}"#,
        #"{"uid":"busdUI","requestId":"Qw8rT1","type":5,"opts":{"rooms":[],"except":[]}}"#,
    ])
    func ownRequestsAreNotAnswered(_ json: String) throws {
        var machine = IncomingRequests(settings: .init(uid: "busdUI"))
        let actions = machine.receive(
            try request(json),
            namespace: "/",
            node: .v2,
            registry: FixedRegistry.sample,
            isOwn: true,
            now: 0,
            nextAckId: { 1 }
        )
        #expect(actions.isEmpty)
    }

    @Test func answersGoToTheNamespacesResponseChannelWithTheConfiguredKey() throws {
        var machine = IncomingRequests(settings: .init(uid: "busdUI", channels: ClusterChannels(key: "app")))
        let actions = machine.receive(
            try request(#"{"uid":"o","requestId":"Qw8rT1","type":1}"#, channel: "app-request#/chat#"),
            namespace: "/chat",
            node: .v2,
            registry: FixedRegistry.sample,
            isOwn: false,
            now: 0,
            nextAckId: { 1 }
        )
        #expect(actions.map(\.publishedChannel) == ["app-response#/chat#"])
        #expect(texts(actions) == [#"{"requestId":"Qw8rT1","rooms":["S3","room1"]}"#])
    }
}
