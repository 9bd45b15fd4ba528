import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// A v2 node's rooms decide its broadcasts: busd hands them over with the
/// message's typed rooms, without choosing sockets and without the room
/// channel's shortcut (so a join the node made just before is applied).
@Suite("Broadcasts to a v2 node", .serialized)
struct Version2DeliveryTests {
    @Test func aRoomTheRegistryHasNotSeenYetStillReachesTheNode() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try ClusterRequestsRedisTests.v2Node(f)
        // Captured: emitter.to('roomA').emit('toRoom', {room:'roomA'}); the registry has no roomA.
        try ClusterRequestsRedisTests.publish(
            f,
            "socket.io#/#roomA#",
            Hex.bytes(
                "93a7656d697474657283a47479706502a46461746192a6746f526f6f6d81a4726f6f6da5726f6f6d41a36e7370a12f83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490"
            )
        )
        guard
            case .deliverToRooms(let ackId, _, "/", let rooms, let except, let packet, _)? =
                try ClusterRequestsRedisTests.nextFrame(client)
        else {
            Issue.record("DELIVER_TO_ROOMS expected")
            return
        }
        #expect(ackId == 0)
        #expect(rooms == [.name("roomA")] && except.isEmpty)
        #expect(String(decoding: packet, as: UTF8.self) == #"2["toRoom",{"room":"roomA"}]"#)
        #expect(f.member.statistics.filteredBeforeDecode == 0)
    }

    @Test func numericRoomsStayNumbers() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try ClusterRequestsRedisTests.v2Node(f)
        let message = BroadcastMessage(
            uid: "osO7f9",
            data: [.string("n")],
            namespace: "/",
            rooms: [.number(123)],
            except: [.name("123")]
        )
        try ClusterRequestsRedisTests.publish(f, "socket.io#/#123#", try message.encode())
        guard
            case .deliverToRooms(_, _, _, let rooms, let except, _, _)? = try ClusterRequestsRedisTests.nextFrame(
                client
            )
        else {
            Issue.record("DELIVER_TO_ROOMS expected")
            return
        }
        #expect(rooms == [.number(123)])
        #expect(except == [.name("123")])
    }

    /// busd's added latency for an answer from the registry (read from
    /// Redis to published), measured end to end through Redis: the figure
    /// printed includes two Redis hops; the bound is loose (shared CI).
    @Test func allRoomsAnswerLatency() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        _ = try ClusterRequestsRedisTests.v2Node(f)
        let responses = try RawSubscriber(f.server, channels: ["socket.io-response#/#"])
        let redis = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        var samples: [Duration] = []
        for i in 0..<300 {
            let id = String(format: "r%05d", i)
            let started = ContinuousClock.now
            _ = try redis.command([
                "PUBLISH", "socket.io-request#/#", #"{"uid":"other1","requestId":"\#(id)","type":1}"#,
            ])
            guard let text = try responses.nextText() else { break }
            samples.append(ContinuousClock.now - started)
            #expect(text.hasPrefix(#"{"requestId":"\#(id)""#))
        }
        samples.sort()
        #expect(samples.count == 300)
        let p50 = samples[samples.count / 2]
        let p99 = samples[samples.count * 99 / 100]
        print(
            "ALL_ROOMS round trip through Redis (publish -> busd -> response): p50 \(p50), p99 \(p99), max \(samples.last!)"
        )
        #expect(p99 < .milliseconds(50))
    }
}

/// Delivery records for a v2 node: the ack id is injected as for v1, and the
/// targets come from DELIVERED (the node chose them by its own rooms).
@Suite("Delivery records of a v2 node", .serialized)
struct Version2DeliveryRecordTests {
    @Test func deliveredNamesTheTargetsAndTheClientsAckConfirms() throws {
        let f = try NodeLinkFixture(configure: { $0.ackPolicy = .all })
        defer { f.stop() }
        let client = try ClusterRequestsRedisTests.v2Node(f)
        let redis = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        _ = try DeliveryConfirmationTests.publish(redis, request: nil)
        guard
            case .deliverToRooms(let ackId, _, "/", let rooms, _, let packet, _)? =
                try ClusterRequestsRedisTests.nextFrame(client)
        else {
            Issue.record("DELIVER_TO_ROOMS expected")
            return
        }
        #expect(ackId != 0 && rooms == [.name("roomA")])
        #expect(String(decoding: packet, as: UTF8.self) == "2\(ackId)[\"news\",1]")
        #expect(f.member.ackCounts.pending == 0)
        client.send(.delivered(ackId: ackId, namespace: "/", socketIds: [ClusterRequestsRedisTests.sid]))
        #expect(eventually { f.member.ackCounts.pending == 1 })
        client.send(
            .acked(
                ackId: ackId,
                socketId: ClusterRequestsRedisTests.sid,
                status: .delivered,
                arguments: Array("[]".utf8)
            )
        )
        #expect(eventually { f.member.ackCounts.delivered == 1 && f.member.ackCounts.pending == 0 })
    }
}
