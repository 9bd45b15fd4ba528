import BusCore
import Foundation
import Hiredis
import Logging
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

/// The subscriber's reader and router threads, the backlog between them,
/// and Redis cutting the subscriber, against a real redis-server.
@Suite("subscriber backlog and data loss against a real redis-server", .serialized)
struct SubscriberBacklogTests {
    /// Captured: emitter.to('roomA').emit('toRoom', {room:'roomA'}), with
    /// the data's "roomA" replaced by a five-digit sequence number.
    static func numbered(_ n: Int, namespace: String = "/") -> [UInt8] {
        let digits = Hex.string(String(format: "%05d", n).utf8)
        let nsp = Hex.string([UInt8(0xa0 + namespace.utf8.count)] + Array(namespace.utf8))
        return Hex.bytes(
            "93a7656d697474657283a47479706502a46461746192a6746f526f6f6d81a4726f6f6da5" + digits
                + "a36e7370" + nsp + "83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490"
        )
    }

    static func member(
        _ server: RedisTestServer,
        backlog: Int = 64 << 20,
        onCommand: @escaping @Sendable (NodeCommand) -> Void
    ) throws -> ClusterMember {
        var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: server.url), nodeId: "n1")
        configuration.pingInterval = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(600)
        configuration.subscriberBacklogBytes = backlog
        var logger = Logger(label: "test.backlog")
        logger.logLevel = .critical
        return ClusterMember(configuration: configuration, logger: logger, onCommand: onCommand)
    }

    static func sequenceNumber(_ command: NodeCommand) -> Int? {
        guard case .deliver(_, _, _, let packet, _, _, _) = command else { return nil }
        // 2["toRoom",{"room":"00042"}]
        let text = String(decoding: packet, as: UTF8.self)
        guard let start = text.range(of: #""room":""#)?.upperBound else { return nil }
        return Int(text[start...].prefix(5))
    }

    @Test func aBroadcastWhoseNamespaceIsNotItsChannelsIsCountedAsMalformed() throws {
        let server = try RedisTestServer()
        let recorder = CommandRecorder()
        let member = try Self.member(server) { recorder.record($0) }
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        member.socketJoined("AgUEon6wzXtHqqioAAAB", rooms: ["roomA"])
        #expect(eventually { member.subscribedPatterns.count == 1 && member.subscribedChannels.count == 3 })
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try redis.command([
            Array("PUBLISH".utf8), Array("socket.io#/#roomA#".utf8), Self.numbered(1, namespace: "/chat"),
        ])
        _ = try redis.command([Array("PUBLISH".utf8), Array("socket.io#/#roomA#".utf8), Self.numbered(2)])
        #expect(eventually { member.statistics.received == 2 && member.statistics.deliveries == 1 })
        #expect(member.statistics.malformed == 1)
        #expect(recorder.all.compactMap(Self.sequenceNumber) == [2])
    }

    /// Routing slower than Redis sends: the backlog fills, what does not fit
    /// is dropped and counted, the rest arrives in order, and Redis never
    /// cuts the subscriber (it reads on regardless).
    @Test func slowRoutingDropsWhatDoesNotFitAndKeepsTheRestInOrder() throws {
        let server = try RedisTestServer(extraArguments: ["--client-output-buffer-limit", "pubsub 256kb 0 0"])
        let recorder = CommandRecorder()
        let member = try Self.member(server, backlog: 64 << 10) { command in
            Thread.sleep(forTimeInterval: 0.0005)  // a node link much slower than Redis
            recorder.record(command)
        }
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        member.socketJoined("AgUEon6wzXtHqqioAAAB", rooms: ["roomA"])
        #expect(
            eventually {
                member.subscribedPatterns.count == 1 && member.subscribedChannels.count == 3 && member.readiness.isReady
            }
        )
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let total = 20_000  // ~3 MB: 12 times Redis's limit, 50 times the backlog
        for start in stride(from: 0, to: total, by: 500) {
            _ = try redis.pipeline(
                (start..<start + 500).map {
                    [Array("PUBLISH".utf8), Array("socket.io#/#roomA#".utf8), Self.numbered($0)]
                }
            )
        }
        #expect(eventually(timeout: .seconds(30)) { recorder.all.count + member.subscriberBacklogDropped == total })
        #expect(member.statistics.received == recorder.all.count)
        let delivered = recorder.all.compactMap(Self.sequenceNumber)
        #expect(member.subscriberBacklogDropped > 0)
        #expect(delivered.count + member.subscriberBacklogDropped == total)
        #expect(delivered == delivered.sorted(), "out of order")
        #expect(member.redisReconnects == 0)
        #expect(member.redisDataLossCount == 0)
    }

    /// One message bigger than the subscriber's `client-output-buffer-limit
    /// pubsub` makes Redis cut it at once: found on reconnection, counted,
    /// and busd is not ready for a while, with the reason.
    @Test func redisCuttingTheSubscriberIsReportedAsDataLoss() throws {
        let server = try RedisTestServer(extraArguments: ["--client-output-buffer-limit", "pubsub 64kb 0 0"])
        let cuts = Mutex<[SubscriberCut]>([])
        var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: server.url), nodeId: "n1")
        configuration.pingInterval = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(600)
        var logger = Logger(label: "test.cut")
        logger.logLevel = .critical
        let member = ClusterMember(
            configuration: configuration,
            logger: logger,
            onDataLoss: { cut in cuts.withLock { $0.append(cut) } }
        ) { _ in }
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/")
        #expect(eventually { member.readiness.isReady })
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try redis.command([
            Array("PUBLISH".utf8), Array("socket.io#/#".utf8), [UInt8](repeating: 0x61, count: 200_000),
        ])
        #expect(eventually { member.redisDataLossCount == 1 })
        #expect(cuts.withLock { $0 } == [SubscriberCut(cause: .closedByRedis)])
        #expect(member.redisReconnects == 1)
        let readiness = member.readiness
        #expect(!readiness.isReady)
        #expect(readiness.subscriberReady || eventually { member.readiness.subscriberReady })
        #expect(readiness.reasons.contains { $0.hasPrefix("redis data loss 0 s ago: Redis closed the subscriber") })

        // A restart of Redis is an outage, not a cut.
        server.kill()
        try server.restart()
        #expect(eventually(timeout: .seconds(10)) { member.redisReconnects == 2 && member.readiness.subscriberReady })
        #expect(member.redisDataLossCount == 1)
    }
}
