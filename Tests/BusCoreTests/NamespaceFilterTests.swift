import BusCore
import Foundation
import Hiredis
import LocalProtocol
import Logging
import SocketIOCodec
import Testing
import TestSupport

/// A broadcast for a namespace the node has no socket in (v1, no node) or
/// never announced (v2) is dropped from its channel name alone, as a room
/// miss is: not decoded (garbage there is not even counted as malformed).
@Suite("Broadcasts for a namespace without local sockets", .serialized)
struct NamespaceFilterTests {
    // Captured: emitter.of('/chat').emit('findSocket', {hello:'chat'})
    static let chatBroadcast = Hex.bytes(
        "93a7656d697474657283a47479706502a46461746192aa66696e64536f636b657481a568656c6c6fa463686174a36e7370a52f63686174"
            + "83a5726f6f6d7390a5666c61677380a665786365707490"
    )

    static func publish(_ server: RedisTestServer, _ channel: String, _ payload: [UInt8]) throws {
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try redis.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
    }

    @Test func registryRoutedNodeDropsANamespaceWithoutSocketsBeforeDecoding() throws {
        let server = try RedisTestServer()
        let recorder = CommandRecorder()
        var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: server.url), nodeId: "n1")
        configuration.namespaces = ["/", "/chat"]
        configuration.pingInterval = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(600)
        var logger = Logger(label: "test.nsfilter")
        logger.logLevel = .error
        let member = ClusterMember(configuration: configuration, logger: logger) { recorder.record($0) }
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        #expect(eventually { member.subscribedPatterns.count == 2 })

        try Self.publish(server, "socket.io#/chat#", Self.chatBroadcast)
        // Garbage on the same channel: never decoded, so not malformed.
        try Self.publish(server, "socket.io#/chat#", [0xdd, 0x7f, 0xff, 0xff, 0xff])
        #expect(eventually { member.statistics.namespaceFilteredBeforeDecode == 2 })
        #expect(member.statistics.malformed == 0 && member.statistics.filteredBeforeDecode == 0)
        #expect(recorder.all.isEmpty)

        // Once a socket of /chat is here, the same broadcast reaches it.
        member.socketConnected("kjd6nH2e29v_GNS3AAAC", namespace: "/chat")
        try Self.publish(server, "socket.io#/chat#", Self.chatBroadcast)
        #expect(eventually { member.statistics.deliveries == 1 })
        guard case .deliver("/chat", ["kjd6nH2e29v_GNS3AAAC"], _, let packet, _, _, _)? = recorder.all.first else {
            Issue.record("DELIVER expected, got \(recorder.all)")
            return
        }
        #expect(String(decoding: packet, as: UTF8.self) == #"2/chat,["findSocket",{"hello":"chat"}]"#)

        // And when it is gone, the namespace is dropped again.
        member.socketDisconnected("kjd6nH2e29v_GNS3AAAC")
        try Self.publish(server, "socket.io#/chat#", Self.chatBroadcast)
        #expect(eventually { member.statistics.namespaceFilteredBeforeDecode == 3 })
        #expect(member.statistics.deliveries == 1)
    }

    @Test func versionTwoNodeGetsEveryNamespaceItAnnouncedEvenWithoutSockets() throws {
        let f = try NodeLinkFixture { $0.namespaces = ["/", "/chat"] }
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        client.send(.hello(version: 2, node: "test-node", pid: 1))
        #expect(try client.receive()?.name == "WELCOME")
        client.send(.namespace("/"))
        client.send(.socketConnect(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", connectedAt: 1))
        #expect(eventually { f.member.socket("AgUEon6wzXtHqqioAAAB") != nil })
        #expect(eventually { f.member.subscribedPatterns.count == 2 })

        // /chat was subscribed from the configuration; the node never announced it.
        try Self.publish(f.server, "socket.io#/chat#", Self.chatBroadcast)
        #expect(eventually { f.member.statistics.namespaceFilteredBeforeDecode == 1 })

        // Announced, without a socket there: the node's own rooms decide.
        client.send(.namespace("/chat"))
        #expect(eventually { f.member.nodeSessionVersion == 2 })
        var delivered = false
        for _ in 0..<20 where !delivered {
            try Self.publish(f.server, "socket.io#/chat#", Self.chatBroadcast)
            if case .deliverToRooms(_, _, "/chat", let rooms, _, let packet, _)? =
                try ClusterRequestsRedisTests.nextFrame(client, timeout: .milliseconds(300))
            {
                #expect(rooms.isEmpty)
                #expect(String(decoding: packet, as: UTF8.self) == #"2/chat,["findSocket",{"hello":"chat"}]"#)
                delivered = true
            }
        }
        #expect(delivered)
    }
}
