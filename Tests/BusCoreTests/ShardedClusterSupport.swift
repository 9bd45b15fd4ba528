import BusCore
import Foundation
import Hiredis
import LocalProtocol
import Logging
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

/// busd (member and node link in this process) in a sharded-adapter
/// cluster on a real Redis Cluster, its node a raw local-protocol v2 client.
struct ShardedClusterBusd: @unchecked Sendable {
    // @unchecked: the node client is used by one thread at a time (the test, then the load's receiver).
    let member: ClusterMember
    let link: NodeLinkServer
    let node: TestNodeClient

    static let sid = "AgUEon6wzXtHqqioAAAB"

    init(cluster: RedisClusterTestServer, seed: Int, mode: ShardedChannels.Mode, rooms: [String]) throws {
        let path = cluster.directory.appendingPathComponent("busd-\(UUID().uuidString.prefix(6)).sock").path
        var configuration = ClusterMember.Configuration(
            redis: try RedisConfiguration(url: cluster.url(seed)),
            nodeId: "shard-n1"
        )
        configuration.adapterFlavor = .sharded(mode)
        configuration.pingInterval = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(600)
        var logger = Logger(label: "test.sharded-cluster")
        logger.logLevel = .critical
        let relay = NodeCommandRelay()
        member = ClusterMember(configuration: configuration, logger: logger, onBatchEnd: { relay.flush() }) {
            relay.forward($0)
        }
        link = NodeLinkServer(configuration: .init(path: path), member: member, logger: logger)
        relay.connect(to: link)
        member.start()
        try link.start()
        node = try TestNodeClient(path: path)
        node.send(.hello(version: 2, node: "test-node", pid: 1))
        #expect(try node.receive()?.name == "WELCOME")
        node.send(.namespace("/"))
        node.send(.socketConnect(namespace: "/", socketId: Self.sid, connectedAt: 1))
        node.send(.roomsJoin(namespace: "/", socketId: Self.sid, rooms: [.name(Self.sid)] + rooms.map { .name($0) }))
    }

    func stop() {
        link.stop()
        member.stop(leave: false)
    }

    /// The next frame that is not a PING (answered).
    func nextFrame(timeout: Duration = .seconds(3)) throws -> LocalFrame? {
        while let frame = try node.receive(timeout: timeout) {
            if case .ping(let token) = frame {
                node.send(.pong(token: token))
                continue
            }
            return frame
        }
        return nil
    }
}

/// A stock sharded server's Redis side on a cluster: SSUBSCRIBE on the
/// master owning each channel's slot, SPUBLISH through a cluster client
/// (routed by the channel, as a stock node with cluster routing does).
final class ClusterShardPeer {
    let cluster: RedisClusterTestServer
    let publisher: RedisClient
    private var subscribers: [RedisConnection] = []

    init(_ cluster: RedisClusterTestServer, channels: [String] = []) throws {
        self.cluster = cluster
        publisher = try RedisClient.connect(try RedisConfiguration(url: cluster.url(cluster.livePorts[0])))
        for channel in channels {
            let port = try #require(try Self.owner(of: channel, in: cluster))
            let connection = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port))
            try connection.append(["SSUBSCRIBE", channel])
            _ = try connection.readReply()
            subscribers.append(connection)
        }
    }

    static func owner(of channel: String, in cluster: RedisClusterTestServer) throws -> Int? {
        try cluster.masterPort(ofSlot: ClusterKeySlot.slot(of: channel), askingNode: cluster.livePorts[0])
    }

    /// SPUBLISH; the number of subscribers Redis handed it to.
    @discardableResult
    func publish(_ channel: String, _ payload: [UInt8]) throws -> Int {
        Int(try publisher.command([Array("SPUBLISH".utf8), Array(channel.utf8), payload]).integer ?? -1)
    }

    /// `PUBSUB SHARDNUMSUB` on the master owning `channel` (not summed).
    func countOnOwner(_ channel: String) throws -> Int? {
        guard let port = try Self.owner(of: channel, in: cluster) else { return nil }
        let connection = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port))
        defer { connection.close() }
        return try connection.shardSubscriberCountForTests(channel)
    }

    /// The next smessage on any subscription, nil after `timeout`.
    func next(timeout: Duration = .seconds(3)) throws -> (String, ShardedMessage)? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for connection in subscribers {
                if let reply = try connection.bufferedReply(), let parts = reply.array, parts.count == 3,
                    parts[0].string == "smessage", case .bulk(let payload) = parts[2]
                {
                    return (parts[1].string ?? "", try ShardedMessage.decode(payload))
                }
                if try connection.waitReadable(timeout: .milliseconds(5)) { try connection.readAvailable() }
            }
        }
        return nil
    }

    func close() {
        publisher.close()
        for connection in subscribers { connection.close() }
    }

    /// A broadcast as a stock sharded node sends it for `io.to(rooms).emit(data)`.
    static func broadcast(_ data: [JSValue], rooms: [String], uid: String = "9ffc6a0edde9fe4b") throws -> (
        Void, [UInt8], ShardedMessage
    ) {
        let message = ShardedMessage(
            .broadcast(
                packet: JSObject([("type", .number(2)), ("data", .array(data))]),
                requestId: nil,
                options: .init(rooms: rooms.map { .name($0) })
            ),
            uid: uid,
            namespace: "/"
        )
        return ((), try message.encode(), message)
    }
}

extension RedisConnection {
    func shardSubscriberCountForTests(_ channel: String) throws -> Int? {
        guard case .array(let parts) = try command(["PUBSUB", "SHARDNUMSUB", channel]), parts.count == 2 else {
            return nil
        }
        return parts[1].integer.map(Int.init)
    }
}

/// Starts one Redis Cluster for the sharded-cluster suite.
struct ShardedClusterTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try RedisClusterTestServer()
        defer { cluster.stop() }
        try await ShardedClusterTests.$cluster.withValue(cluster) { try await function() }
    }
}

extension Trait where Self == ShardedClusterTrait {
    static var shardedCluster: Self { Self() }
}
