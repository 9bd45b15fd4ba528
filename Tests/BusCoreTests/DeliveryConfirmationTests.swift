import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// Ack ids injected into DELIVER, the node's ACKED, and the records busd
/// writes to a real redis-server.
@Suite("Delivery confirmations against a real redis-server", .serialized)
struct DeliveryConfirmationTests {
    static let socketId = "AgUEon6wzXtHqqioAAAB"

    /// A fixture with one connected node socket in roomA.
    static func connected(
        _ configure: @escaping (inout ClusterMember.Configuration) -> Void
    ) throws -> (NodeLinkFixture, TestNodeClient, RedisConnection) {
        let f = try NodeLinkFixture(node: "web-1", configure: configure)
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        client.send(.socketConnect(namespace: "/", socketId: socketId, connectedAt: 1))
        client.send(.socketJoin(namespace: "/", socketId: socketId, rooms: ["roomA"]))
        #expect(
            eventually {
                f.member.socket(socketId)?.rooms == ["roomA"] && f.member.subscribedPatterns.count == 1
                    && f.member.subscribedChannels.count == 3
            }
        )
        return (f, client, try RedisConnection(endpoint: .unix(path: f.server.socketPath)))
    }

    static func publish(_ redis: RedisConnection, request: DeliveryRequest?, event: String = "news") throws -> [UInt8] {
        var message = BroadcastMessage(
            uid: "emitter",
            data: [.string(event), .number(1)],
            namespace: "/",
            rooms: [.name("roomA")]
        )
        if let request { message.options["socketbus"] = request.jsValue }
        let payload = try message.encode()
        _ = try redis.command([Array("PUBLISH".utf8), Array(message.channel().name.utf8), payload])
        return payload
    }

    static func records(_ redis: RedisConnection, _ messageId: String) throws -> [DeliveryRecord] {
        guard case .array(let items) = try redis.command(["LRANGE", "socketbus:acks:\(messageId)", "0", "-1"]) else {
            return []
        }
        return try items.compactMap { item -> DeliveryRecord? in
            guard case .bulk(let bytes) = item else { return nil }
            return try DeliveryRecord(json: bytes)
        }
    }

    static func confirmations(_ records: [DeliveryRecord]) -> [DeliveryRecord.Confirmation] {
        records.compactMap { if case .confirmation(let c) = $0 { c } else { nil } }
    }

    @Test func requestedAckIsInjectedConfirmedPublishedAndStored() throws {
        let (f, client, redis) = try Self.connected { _ in }
        defer { f.stop() }
        let watcher = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        _ = try watcher.command(["SUBSCRIBE", "socketbus:acks:m1"])

        // Policy "requested": a plain broadcast has no id...
        _ = try Self.publish(redis, request: nil)
        guard case .deliver(let plainId, _, _, _, let plainPacket, _)? = try client.receive() else {
            Issue.record("no DELIVER")
            return
        }
        #expect(plainId == 0)
        #expect(plainPacket == Array(#"2["news",1]"#.utf8))

        // ...a requested one carries the first id of the range, spliced into the packet.
        _ = try Self.publish(redis, request: DeliveryRequest(messageId: "m1"))
        guard case .deliver(let ackId, _, _, let ids, let packet, _)? = try client.receive() else {
            Issue.record("no DELIVER")
            return
        }
        #expect(ackId == AckIdRange.base + 1)
        #expect(ids == [Self.socketId])
        #expect(packet == Array(#"24503599627370497["news",1]"#.utf8))

        client.send(
            .acked(ackId: ackId, socketId: Self.socketId, status: .delivered, arguments: Array(#"["ok",{"n":2}]"#.utf8))
        )
        // Published: first the dispatch, then the confirmation.
        var published: [DeliveryRecord] = []
        for _ in 0..<2 {
            guard case .array(let parts) = try watcher.readReply(), parts.count == 3, case .bulk(let json) = parts[2]
            else { break }
            published.append(try DeliveryRecord(json: json))
        }
        guard published.count == 2, case .dispatched(let dispatch) = published[0],
            case .confirmation(let confirmation) = published[1]
        else {
            Issue.record("unexpected records: \(published)")
            return
        }
        #expect(dispatch.sockets == [Self.socketId] && dispatch.node == "web-1" && dispatch.ackId == ackId)
        #expect(
            confirmation.messageId == "m1" && confirmation.socketId == Self.socketId && confirmation.node == "web-1"
        )
        #expect(confirmation.status == .delivered)
        #expect(confirmation.arguments == [.string("ok"), .object(JSObject([("n", .number(2))]))])
        // Stored for late readers, with the retention as TTL.
        #expect(try eventually { try Self.records(redis, "m1") == published })
        guard case .integer(let ttl) = try redis.command(["PTTL", "socketbus:acks:m1"]) else { return }
        #expect(ttl > 3_500_000 && ttl <= 3_600_000)
        #expect(f.member.ackCounts.delivered == 1 && f.member.ackCounts.pending == 0)

        // A repeated or unknown report changes nothing.
        client.send(.acked(ackId: ackId, socketId: Self.socketId, status: .delivered, arguments: Array("[]".utf8)))
        client.send(.acked(ackId: 77, socketId: Self.socketId, status: .delivered, arguments: Array("[]".utf8)))
        #expect(eventually { f.member.ackCounts.ignoredReports == 2 })
        #expect(try Self.records(redis, "m1").count == 2)
    }

    @Test func aSocketThatNeverAcksTimesOutAtThePublishersTimeout() throws {
        let (f, client, redis) = try Self.connected { $0.ackTimeout = .seconds(10) }
        defer { f.stop() }
        let started = ContinuousClock.now
        _ = try Self.publish(redis, request: DeliveryRequest(messageId: "slow", timeoutMilliseconds: 300))
        guard case .deliver(let ackId, _, _, _, _, _)? = try client.receive() else {
            Issue.record("no DELIVER")
            return
        }
        #expect(ackId != 0)
        #expect(try eventually { Self.confirmations(try Self.records(redis, "slow")).map(\.status) == [.timeout] })
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        // The client acks too late: ignored.
        client.send(.acked(ackId: ackId, socketId: Self.socketId, status: .delivered, arguments: Array("[]".utf8)))
        #expect(eventually { f.member.ackCounts.ignoredReports == 1 })
        #expect(f.member.ackCounts.timedOut == 1)
    }

    @Test func aSocketThatDisconnectsFirstIsReportedDisconnected() throws {
        let (f, client, redis) = try Self.connected { _ in }
        defer { f.stop() }
        _ = try Self.publish(redis, request: DeliveryRequest(messageId: "gone"))
        guard case .deliver? = try client.receive() else {
            Issue.record("no DELIVER")
            return
        }
        client.send(.socketDisconnect(namespace: "/", socketId: Self.socketId, reason: "transport close"))
        #expect(try eventually { Self.confirmations(try Self.records(redis, "gone")).map(\.status) == [.disconnected] })
    }

    @Test func policyAllNamesAnonymousMessagesByTheirPayloadDigest() throws {
        let (f, client, redis) = try Self.connected { $0.ackPolicy = .all }
        defer { f.stop() }
        let payload = try Self.publish(redis, request: nil)
        guard case .deliver(let ackId, _, _, _, _, _)? = try client.receive() else {
            Issue.record("no DELIVER")
            return
        }
        let messageId = String(try Sha256sum.digest(payload).prefix(32))
        client.send(.acked(ackId: ackId, socketId: Self.socketId, status: .delivered, arguments: Array("[]".utf8)))
        #expect(try eventually { Self.confirmations(try Self.records(redis, messageId)).map(\.status) == [.delivered] })

        // A publisher may still opt out.
        _ = try Self.publish(redis, request: DeliveryRequest(wantsAck: false))
        guard case .deliver(let optedOut, _, _, _, _, _)? = try client.receive() else {
            Issue.record("no DELIVER")
            return
        }
        #expect(optedOut == 0)
    }

    @Test func policyNoneNeverInjects() throws {
        let (f, client, redis) = try Self.connected { $0.ackPolicy = .none }
        defer { f.stop() }
        _ = try Self.publish(redis, request: DeliveryRequest(messageId: "x"))
        guard case .deliver(let ackId, _, _, _, let packet, _)? = try client.receive() else {
            Issue.record("no DELIVER")
            return
        }
        #expect(ackId == 0 && packet == Array(#"2["news",1]"#.utf8))
    }

    /// Well-formed but unusable: answered with ERROR 6, the link stays (issue 12).
    @Test func ackedWithArgumentsThatAreNotAJSONArrayIsAnsweredAndTheLinkStays() throws {
        let (f, client, _) = try Self.connected { _ in }
        defer { f.stop() }
        client.send(
            .acked(
                ackId: AckIdRange.base + 1,
                socketId: Self.socketId,
                status: .delivered,
                arguments: Array("{oops".utf8)
            )
        )
        #expect(try client.receive() == .error(code: 6, message: "ACKED arguments are not a JSON array"))
        client.send(.ping(token: 2))
        #expect(try client.receive() == .pong(token: 2))
        #expect(f.member.socket(Self.socketId) != nil)
    }
}
