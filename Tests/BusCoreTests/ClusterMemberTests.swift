import BusCore
import Foundation
import Hiredis
import Logging
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

/// Collects what busd would send its node.
final class CommandRecorder: Sendable {
    private let commands = Mutex<[NodeCommand]>([])
    func record(_ command: NodeCommand) { commands.withLock { $0.append(command) } }
    var all: [NodeCommand] { commands.withLock { $0 } }
}

func makeMember(
    _ server: RedisTestServer,
    node: String,
    ttl: Duration = .seconds(3),
    cleanup: Duration = .milliseconds(300),
    recorder: CommandRecorder = CommandRecorder()
) throws -> ClusterMember {
    var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: server.url), nodeId: node)
    configuration.livenessTTL = ttl
    configuration.cleanupInterval = cleanup
    configuration.pingInterval = .milliseconds(300)
    configuration.pingTimeout = .milliseconds(600)
    var logger = Logger(label: "test.\(node)")
    logger.logLevel = .error
    return ClusterMember(configuration: configuration, logger: logger) { recorder.record($0) }
}

@Suite("busd cluster membership against a real redis-server", .serialized)
struct ClusterMemberTests {
    @Test func registryIsMirroredAndFoundInOneRoundTrip() throws {
        let server = try RedisTestServer()
        let member = try makeMember(server, node: "n1")
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/", at: 1_795_237_379_219)
        member.socketConnected("kjd6nH2e29v_GNS3AAAC", namespace: "/chat")
        member.socketConnected("4YNkg8RQH4qx_k5dAAAE", namespace: "/")

        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        #expect(try eventually { try redis.command(["HLEN", "socketbus:owner"]) == .integer(3) })
        let lookup = RegistryLookup(connection: redis)
        let found = try #require(try lookup.findSocket("AgUEon6wzXtHqqioAAAB"))
        #expect(found.node == "n1")
        #expect(found.namespace == "/")
        #expect(found.connectedAt == 1_795_237_379_219)
        #expect(found.isAlive)
        #expect(found.nodeRecord?.uid == member.uid)
        #expect(try lookup.findSocket("kjd6nH2e29v_GNS3AAAC")?.namespace == "/chat")
        #expect(try lookup.findSocket("nope") == nil)

        member.socketDisconnected("4YNkg8RQH4qx_k5dAAAE")
        #expect(try eventually { try lookup.findSocket("4YNkg8RQH4qx_k5dAAAE") == nil })
        #expect(try redis.command(["SCARD", "socketbus:node:n1:sockets"]) == .integer(2))

        let nodes = try lookup.nodes()
        #expect(nodes.map(\.id) == ["n1"])
        #expect(try eventually { try lookup.nodes().first?.record?.sockets == 2 } || nodes.first?.record != nil)
    }

    @Test func deadNodeGoesStaleThenIsRemovedByAnother() throws {
        let server = try RedisTestServer()
        let dying = try makeMember(server, node: "dying", ttl: .milliseconds(900))
        dying.start()
        dying.socketConnected("sock-of-dying-node-1", namespace: "/")
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let lookup = RegistryLookup(connection: redis)
        #expect(try eventually { try lookup.findSocket("sock-of-dying-node-1")?.isAlive == true })

        dying.stop(leave: false)  // a crash: entries stay behind
        #expect(
            try eventually(timeout: .seconds(3)) { try lookup.findSocket("sock-of-dying-node-1")?.isAlive == false }
        )
        #expect(try lookup.nodes().first { $0.id == "dying" }?.isAlive == false)

        let survivor = try makeMember(server, node: "survivor")
        survivor.start()
        defer { survivor.stop(leave: false) }
        #expect(try eventually { try lookup.findSocket("sock-of-dying-node-1") == nil })
        #expect(try eventually { try lookup.nodes().map(\.id) == ["survivor"] })
        #expect(try redis.command(["EXISTS", "socketbus:node:dying:sockets"]) == .integer(0))
    }

    @Test func flushAllIsRepairedByRewritingTheRegistry() throws {
        let server = try RedisTestServer()
        let member = try makeMember(server, node: "n1", ttl: .milliseconds(1500))
        member.start()
        defer { member.stop(leave: false) }
        for i in 0..<50 { member.socketConnected("socket-\(i)", namespace: "/") }
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        #expect(try eventually { try redis.command(["HLEN", "socketbus:owner"]) == .integer(50) })
        let rewritesBefore = member.registryRewrites

        _ = try redis.command(["FLUSHALL"])
        #expect(try redis.command(["HLEN", "socketbus:owner"]) == .integer(0))
        // Noticed at the next liveness refresh (a third of the TTL).
        #expect(
            try eventually(timeout: .seconds(3)) { try redis.command(["HLEN", "socketbus:owner"]) == .integer(50) }
        )
        #expect(member.registryRewrites > rewritesBefore)
        #expect(try RegistryLookup(connection: redis).findSocket("socket-7")?.isAlive == true)
    }

    @Test func redisRestartIsSurvivedAndStateRestored() throws {
        let server = try RedisTestServer()
        let member = try makeMember(server, node: "n1")
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("before-restart", namespace: "/")
        #expect(eventually { member.isRedisConnected && member.pendingRegistryWrites == 0 })

        try server.restart()  // all data gone
        // Registered while Redis was away or reconnecting: nothing is lost.
        member.socketConnected("during-outage", namespace: "/")
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let lookup = RegistryLookup(connection: redis)
        #expect(
            try eventually(timeout: .seconds(8)) {
                try lookup.findSocket("before-restart") != nil && lookup.findSocket("during-outage") != nil
            }
        )
        // The subscriber came back too: a request reaches the node again.
        #expect(
            eventually(timeout: .seconds(8)) {
                member.subscribedPatterns.count == 1 && member.subscribedChannels.count == 3
            }
        )
        // Counted again as a server by the restarted Redis.
        #expect(
            try redis.command(["PUBSUB", "NUMSUB", "socket.io-request#/#"])
                == .array([.bulk(Array("socket.io-request#/#".utf8)), .integer(1)])
        )
    }

    @Test func silentDeadLinkIsNoticedWithinSeconds() throws {
        // A frozen Redis: no error, no close, no traffic. Only the PING time-out tells.
        let server = try RedisTestServer()
        let member = try makeMember(server, node: "n1")
        member.start()
        defer { member.stop(leave: false) }
        #expect(
            eventually {
                member.isRedisConnected && member.subscribedPatterns.count == 1 && member.subscribedChannels.count == 3
            }
        )
        let clock = ContinuousClock()
        let frozenAt = clock.now
        server.freeze()
        #expect(eventually(timeout: .seconds(5)) { !member.isRedisConnected })
        let noticedAfter = clock.now - frozenAt
        #expect(noticedAfter < .seconds(3), "noticed after \(noticedAfter)")
        member.socketConnected("while-frozen", namespace: "/")
        server.thaw()
        #expect(
            eventually(timeout: .seconds(8)) {
                member.isRedisConnected && member.subscribedPatterns.count == 1 && member.subscribedChannels.count == 3
            }
        )
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        #expect(
            try eventually(timeout: .seconds(5)) {
                try RegistryLookup(connection: redis).findSocket("while-frozen") != nil
            }
        )
    }

    @Test func gracefulLeaveRemovesEntriesAtOnce() throws {
        let server = try RedisTestServer()
        let member = try makeMember(server, node: "leaver")
        member.start()
        member.socketConnected("s1", namespace: "/")
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let lookup = RegistryLookup(connection: redis)
        #expect(try eventually { try lookup.findSocket("s1") != nil })
        member.stop(leave: true)
        #expect(try lookup.findSocket("s1") == nil)
        #expect(try lookup.nodes().isEmpty)
    }

    @Test func emitterRequestsReachTheNodeAndTheRegistry() throws {
        let server = try RedisTestServer()
        let recorder = CommandRecorder()
        let member = try makeMember(server, node: "n2", recorder: recorder)
        member.start()
        defer { member.stop(leave: false) }
        // A version 1 node: busd's registry chooses the sockets.
        member.nodeSessionStarted(version: 1)
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        member.socketConnected("CCCCCCCCCCCCCCCCCCCC", namespace: "/")
        member.socketJoined("CCCCCCCCCCCCCCCCCCCC", rooms: ["roomC", "roomA"])
        #expect(eventually { member.subscribedPatterns.count == 1 && member.subscribedChannels.count == 3 })

        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        // A plain subscriber of the request channel, counted as a server as a stock node is.
        #expect(
            try redis.command(["PUBSUB", "NUMSUB", "socket.io-request#/#"])
                == .array([.bulk(Array("socket.io-request#/#".utf8)), .integer(1)])
        )

        // Captured @socket.io/redis-emitter 5.1 requests.
        func publish(_ json: String) throws {
            _ = try redis.command(["PUBLISH", "socket.io-request#/#", json])
        }
        try publish(#"{"type":2,"opts":{"rooms":["AgUEon6wzXtHqqioAAAB"],"except":[]},"rooms":["joinedRemote"]}"#)
        #expect(eventually { member.socket("AgUEon6wzXtHqqioAAAB")?.rooms == ["joinedRemote"] })
        try publish(#"{"type":3,"opts":{"rooms":["roomC"],"except":[]},"rooms":["roomA"]}"#)
        #expect(eventually { member.socket("CCCCCCCCCCCCCCCCCCCC")?.rooms == ["roomC"] })
        try publish(#"{"uid":"emitter","type":6,"data":["hello",{"from":"emitter"},2]}"#)
        try publish(#"{"type":4,"opts":{"rooms":["joinedRemote"],"except":[]},"close":true}"#)
        #expect(eventually { member.socket("AgUEon6wzXtHqqioAAAB") == nil })
        #expect(try eventually { try RegistryLookup(connection: redis).findSocket("AgUEon6wzXtHqqioAAAB") == nil })
        try publish("{not json")
        #expect(eventually { member.statistics.malformed == 1 })

        #expect(
            recorder.all == [
                .join(namespace: "/", socketIds: ["AgUEon6wzXtHqqioAAAB"], rooms: ["joinedRemote"]),
                .leave(namespace: "/", socketIds: ["CCCCCCCCCCCCCCCCCCCC"], rooms: ["roomA"]),
                .serverSideEmit(
                    namespace: "/",
                    data: [.string("hello"), .object(JSObject([("from", .string("emitter"))])), .number(2)]
                ),
                .disconnect(namespace: "/", socketIds: ["AgUEon6wzXtHqqioAAAB"], close: true),
            ]
        )
    }

    @Test func broadcastsAreRoutedToLocalSocketsOnly() throws {
        let server = try RedisTestServer()
        let recorder = CommandRecorder()
        let member = try makeMember(server, node: "n2", recorder: recorder)
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        member.socketJoined("AgUEon6wzXtHqqioAAAB", rooms: ["roomA"])
        #expect(eventually { member.subscribedPatterns.count == 1 && member.subscribedChannels.count == 3 })
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        func publish(_ channel: String, _ hex: String) throws {
            _ = try redis.command([Array("PUBLISH".utf8), Array(channel.utf8), Hex.bytes(hex)])
        }
        // Captured: emitter.to('roomA').emit('toRoom', {room:'roomA'})
        try publish(
            "socket.io#/#roomA#",
            "93a7656d697474657283a47479706502a46461746192a6746f526f6f6d81a4726f6f6da5726f6f6d41a36e7370a12f83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490"
        )
        // A room this node does not have: dropped before decoding.
        try publish(
            "socket.io#/#roomB#",
            "93a7656d697474657283a47479706502a46461746192aa6e6f636f6d707265737381a163c2a36e7370a12f83a5726f6f6d7391a5726f6f6d42a5666c61677381a8636f6d7072657373c2a665786365707490"
        )
        // Its own uid: dropped.
        try publish(
            "socket.io#/#",
            "93a6" + Hex.string(member.uid.utf8)
                + "83a47479706502a46461746191a178a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380"
        )
        // Garbage: counted, skipped.
        try publish("socket.io#/#", "dd7fffffff")
        // Each counter is bumped when its message is done with.
        #expect(
            eventually {
                let s = member.statistics
                return s.received == 4 && s.filteredBeforeDecode == 1 && s.ownDropped == 1 && s.malformed == 1
                    && s.deliveries == 1
            }
        )
        #expect(
            recorder.all == [
                .deliver(
                    namespace: "/",
                    socketIds: ["AgUEon6wzXtHqqioAAAB"],
                    ackId: 0,
                    packet: Array(#"2["toRoom",{"room":"roomA"}]"#.utf8),
                    attachments: [],
                    volatile: false,
                    compress: nil
                )
            ]
        )
    }

    @Test func authenticatesWithPasswordAndWithAnACLUser() throws {
        let server = try RedisTestServer(extraArguments: ["--requirepass", "s3cret"])
        let byPassword = try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/1")
        let admin = try byPassword.connect()
        #expect(try admin.command(["ACL", "SETUSER", "alice", "on", ">wonder", "~*", "&*", "+@all"]) == .status("OK"))
        _ = try admin.command(["SET", "k", "v"])
        let noPassword = try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)")
        let refused = #expect(throws: RedisError.self) { _ = try noPassword.connect().command(["GET", "k"]) }
        #expect(refused?.isAuthenticationFailure == true)
        let byUser = try RedisConfiguration(url: "redis://alice:wonder@127.0.0.1:\(server.port)/1")
        #expect(try byUser.connect().command(["GET", "k"]) == .bulk(Array("v".utf8)))
        let wrong = try RedisConfiguration(url: "redis://alice:nope@127.0.0.1:\(server.port)")
        let wrongPassword = #expect(throws: RedisError.self) { _ = try wrong.connect() }
        #expect(wrongPassword?.isAuthenticationFailure == true)
        #expect(wrongPassword?.description.contains("AUTH at") == true)
        #expect(wrongPassword?.description.contains("nope") == false)
    }
}
