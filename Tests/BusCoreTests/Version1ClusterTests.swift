import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// A v1 node cannot answer: busd answers from its registry.
@Suite("Cluster requests for a v1 node", .serialized)
struct Version1ClusterTests {
    @Test func registryAnswersAndAnAckedBroadcastToTheRegistrysTargets() throws {
        let (f, client, _) = try DeliveryConfirmationTests.connected { _ in }
        defer { f.stop() }
        let sid = DeliveryConfirmationTests.socketId
        let responses = try RawSubscriber(f.server, channels: ["socket.io-response#/#"])
        try ClusterRequestsRedisTests.publish(f, "socket.io-request#/#", ClusterRequestsRedisTests.capture(38))
        #expect(
            try responses.nextText()
                == #"{"requestId":"riA29h","sockets":[{"id":"\#(sid)","handshake":{},"rooms":["\#(sid)","roomA"]}]}"#
        )
        // seq 35: to roomB, where this node has nobody.
        try ClusterRequestsRedisTests.publish(f, "socket.io-request#/#", ClusterRequestsRedisTests.capture(35))
        #expect(try responses.nextText() == #"{"type":8,"requestId":"vUSV9s","clientCount":0}"#)
        // seq 28: everyone.
        try ClusterRequestsRedisTests.publish(f, "socket.io-request#/#", ClusterRequestsRedisTests.capture(28))
        guard
            case .deliver(let ackId, _, "/", let ids, let packet, _)? = try ClusterRequestsRedisTests.nextFrame(client)
        else {
            Issue.record("DELIVER expected")
            return
        }
        #expect(ids == [sid])
        #expect(String(decoding: packet, as: UTF8.self) == "2\(ackId)[\"ev\",{\"ask\":1}]")
        #expect(try responses.nextText() == #"{"type":8,"requestId":"bpevJE","clientCount":1}"#)
        client.send(
            .acked(
                ackId: ackId,
                socketId: sid,
                status: .delivered,
                arguments: Array(#"[{"client":"A","event":"ev","n":1}]"#.utf8)
            )
        )
        #expect(try responses.next()?.1 == ClusterRequestsRedisTests.capture(30))
    }

    /// `io.socketsJoin(room); io.to(room).emit(…)` from another server, the
    /// two messages in one read of busd's subscriber: the reader, which
    /// drops broadcasts with no local target before the router sees them,
    /// must not drop this one before the router has applied the join.
    @Test func aBroadcastRightAfterASocketsJoinReachesTheSocketsJoined() throws {
        let (f, client, redis) = try DeliveryConfirmationTests.connected { _ in }
        defer { f.stop() }
        let sid = DeliveryConfirmationTests.socketId
        var missed: [Int] = []
        for round in 0..<20 {
            let room = "fresh-\(round)"
            let join = #"{"uid":"osO7f9","type":2,"opts":{"rooms":[],"except":[]},"rooms":["\#(room)"]}"#
            let broadcast = try BroadcastMessage(
                uid: "osO7f9",
                data: [.string("after-join"), .number(Double(round))],
                namespace: "/",
                rooms: [.name(room)]
            ).encode()
            // One transaction: Redis hands both to the subscriber together.
            for command in [
                ["MULTI"], ["PUBLISH", "socket.io-request#/#"], ["PUBLISH", "socket.io#/#\(room)#"], ["EXEC"],
            ] {
                var parts = command.map { Array($0.utf8) }
                if command.count == 2 { parts.append(command[1].hasPrefix("socket.io-request") ? Array(join.utf8) : broadcast) }
                _ = try redis.command(parts)
            }
            var delivered = false
            while !delivered, let frame = try ClusterRequestsRedisTests.nextFrame(client, timeout: .seconds(2)) {
                if case .deliver(_, _, "/", let ids, let packet, _) = frame {
                    delivered = ids == [sid] && String(decoding: packet, as: UTF8.self).contains("after-join")
                }
            }
            if !delivered { missed.append(round) }
        }
        #expect(missed.isEmpty, "broadcasts dropped in rounds \(missed)")
        #expect(f.member.socket(sid)?.rooms.contains("fresh-19") == true)
    }
}
