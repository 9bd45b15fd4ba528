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
}
