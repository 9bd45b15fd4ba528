import BusCore
import Foundation
import Hiredis
import Logging
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

/// busd through a real redis-server killed and restarted: readiness, the
/// bounded outbound buffer replayed after the outage, the registry rewritten.
@Suite("Redis outages against a real redis-server", .serialized)
struct RedisOutageTests {
    final class Transitions: Sendable {
        private let seen = Mutex<[Bool]>([])
        func record(_ reachable: Bool) { seen.withLock { $0.append(reachable) } }
        var all: [Bool] { seen.withLock { $0 } }
    }

    static func member(
        _ server: RedisTestServer, limit: Int, overflow: OutboundOverflowPolicy, transitions: Transitions
    ) throws -> ClusterMember {
        var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: server.url), nodeId: "outage-node")
        configuration.pingInterval = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(600)
        configuration.redisTimeout = .milliseconds(600)
        // Slow enough that the test's own subscriber is back first and sees the replay.
        configuration.reconnectBackoff = RetryBackoff(initial: .milliseconds(400), maximum: .milliseconds(400))
        configuration.outboundLimit = limit
        configuration.outboundOverflow = overflow
        var logger = Logger(label: "test.outage")
        logger.logLevel = .critical
        return ClusterMember(configuration: configuration, logger: logger, onAvailability: { transitions.record($0) }) { _ in }
    }

    static func broadcast(_ member: ClusterMember, _ n: Int) throws {
        let packet = SocketIOPacket(type: .event, data: .array([.string("tick"), .number(Double(n))]))
        try member.publishBroadcast(namespace: "/", packet: packet, rooms: ["room-\(n)"], except: [], flags: JSObject())
    }

    @Test(arguments: [(OutboundOverflowPolicy.dropOldest, Array(3..<8)), (.dropNewest, Array(0..<5))])
    func broadcastsWaitOutTheOutageBoundedAndAreReplayedInOrder(overflow: OutboundOverflowPolicy, replayed: [Int]) throws {
        let server = try RedisTestServer()
        let transitions = Transitions()
        let member = try Self.member(server, limit: 5, overflow: overflow, transitions: transitions)
        member.start()
        defer { member.stop(leave: false) }
        member.socketConnected("kept-socket", namespace: "/")
        #expect(eventually { member.readiness.isReady })
        #expect(transitions.all == [true])

        server.kill()
        #expect(eventually { !member.readiness.isReady })
        #expect(member.readiness.reasons.count >= 1)
        #expect(transitions.all == [true, false])
        for n in 0..<8 { try Self.broadcast(member, n) }
        member.socketConnected("outage-socket", namespace: "/")
        #expect(member.outbound.waiting == 5 && member.outbound.dropped == 3)

        try server.restart()
        let restartedAt = ContinuousClock.now
        let subscriber = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try subscriber.command(["PSUBSCRIBE", "socket.io#/#*"])
        var seen: [Int] = []
        while seen.count < replayed.count, ContinuousClock.now - restartedAt < .seconds(5) {
            guard case .array(let parts) = try subscriber.readReply(), parts.count == 4, case .bulk(let payload) = parts[3] else { continue }
            let message = try BroadcastMessage.decode(payload)
            if case .array(let data)? = message.packet["data"], case .number(let n) = data[1] { seen.append(Int(n)) }
        }
        #expect(seen == replayed)
        // The registry Redis lost is written again, promptly.
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let lookup = RegistryLookup(connection: redis)
        #expect(try eventually { try lookup.findSocket("kept-socket") != nil && lookup.findSocket("outage-socket") != nil })
        let rewrittenAfter = ContinuousClock.now - restartedAt
        #expect(rewrittenAfter < .milliseconds(2500), "registry rewritten \(rewrittenAfter) after Redis came back")
        #expect(eventually { member.readiness.isReady })
        #expect(transitions.all == [true, false, true])
        #expect(member.outbound.replayed == 5 && member.outbound.waiting == 0)
    }
}
