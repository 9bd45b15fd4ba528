import ClusterRequests
import SocketIOCodec
import Testing

/// socketsJoin/Leave/disconnectSockets and serverSideEmit from other servers.
@Suite("Incoming requests applied to the node")
struct IncomingApplyTests {
    func receive(_ json: String, _ node: NodePresence, isOwn: Bool = false) throws -> [ClusterAction] {
        var machine = IncomingRequests(settings: .init(uid: "busdUI"))
        return machine.receive(
            try request(json),
            namespace: "/",
            node: node,
            registry: FixedRegistry.sample,
            isOwn: isOwn,
            now: 0,
            nextAckId: { 1 }
        )
    }

    @Test func socketsJoinOnAV2NodeIsAnApplyTheNodesRoomsDecide() throws {
        // The emitter's capture (seq 15 shape), with a numeric room.
        let actions = try receive(#"{"type":2,"opts":{"rooms":[123],"except":["x"]},"rooms":["joined",7]}"#, .v2)
        #expect(
            actions == [
                .apply(
                    .join,
                    namespace: "/",
                    rooms: [.number(123)],
                    except: [.name("x")],
                    targets: [.name("joined"), .number(7)],
                    close: false
                )
            ]
        )
    }

    @Test func socketsLeaveOnAV1NodeUsesTheRegistrysSelection() throws {
        let actions = try receive(
            #"{"uid":"o","type":3,"opts":{"rooms":["room1"],"except":[]},"rooms":["room1"]}"#,
            .v1
        )
        #expect(
            actions == [
                .applyToSockets(.leave, namespace: "/", socketIds: ["S1"], rooms: [.name("room1")], close: false)
            ]
        )
    }

    @Test func selectorThatMatchesNothingOnAV1NodeDoesNothing() throws {
        #expect(
            try receive(#"{"uid":"o","type":3,"opts":{"rooms":["nowhere"],"except":[]},"rooms":["a"]}"#, .v1).isEmpty
        )
    }

    @Test func disconnectSocketsWithClose() throws {
        let actions = try receive(#"{"uid":"o","type":4,"opts":{"rooms":[],"except":[]},"close":true}"#, .v2)
        #expect(actions == [.apply(.disconnect, namespace: "/", rooms: [], except: [], targets: [], close: true)])
    }

    /// The opts forms have no self-filter: the requester applies its own
    /// request when it comes back through Redis.
    @Test func ownOptsRequestIsApplied() throws {
        let actions = try receive(
            #"{"uid":"busdUI","type":2,"opts":{"rooms":[],"except":[]},"rooms":["r"]}"#,
            .v2,
            isOwn: true
        )
        #expect(actions.count == 1)
    }

    @Test(arguments: [NodePresence.v2, .v1])
    func singleSocketFormAppliesToThatSocketThenReplies(_ node: NodePresence) throws {
        let actions = try receive(#"{"requestid":"Zx9cV7","type":3,"sid":"S1","room":"new"}"#, node)
        let expected: ClusterAction =
            node == .v2
            ? .apply(.join, namespace: "/", rooms: [.name("S1")], except: [], targets: [.name("new")], close: false)
            : .applyToSockets(.join, namespace: "/", socketIds: ["S1"], rooms: [.name("new")], close: false)
        #expect(actions.first == expected)
        #expect(texts(actions) == [#"{"requestid":"Zx9cV7"}"#])
    }

    @Test func nothingIsAppliedWithoutANode() throws {
        #expect(try receive(#"{"type":2,"opts":{"rooms":[],"except":[]},"rooms":["r"]}"#, .absent).isEmpty)
        #expect(try receive(#"{"uid":"o","type":4,"opts":{"rooms":[],"except":[]},"close":false}"#, .absent).isEmpty)
    }

    @Test(arguments: [NodePresence.v2, .v1])
    func serverSideEmitWithoutAckGoesToTheNode(_ node: NodePresence) throws {
        // seq 13: the emitter's serverSideEmit.
        let actions = try receive(#"{"uid":"emitter","type":6,"data":["hello",{"from":"emitter"},2]}"#, node)
        #expect(
            actions == [
                .serverSideEmit(
                    namespace: "/",
                    data: [.string("hello"), .object(JSObject([("from", .string("emitter"))])), .number(2)]
                )
            ]
        )
    }

    @Test func ownServerSideEmitIsIgnored() throws {
        #expect(try receive(#"{"uid":"busdUI","type":6,"data":["hello"]}"#, .v2).isEmpty)
        #expect(try receive(#"{"uid":"busdUI","requestId":"RSlA1K","type":6,"data":["hello"]}"#, .v2).isEmpty)
    }

    @Test func serverSideEmitWithAckOnAV1NodeRunsTheHandlersWithoutReply() throws {
        let actions = try receive(#"{"uid":"o","requestId":"RSlA1K","type":6,"data":["ssping",{"from":"n1"}]}"#, .v1)
        #expect(
            actions == [
                .serverSideEmit(
                    namespace: "/",
                    data: [.string("ssping"), .object(JSObject([("from", .string("n1"))]))]
                )
            ]
        )
    }

    @Test func serverSideEmitWithoutANodeIsDropped() throws {
        #expect(try receive(#"{"uid":"o","type":6,"data":["x"]}"#, .absent).isEmpty)
        #expect(try receive(#"{"uid":"o","requestId":"RSlA1K","type":6,"data":["x"]}"#, .absent).isEmpty)
    }
}
