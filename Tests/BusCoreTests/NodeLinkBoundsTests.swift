import BusCore
import Foundation
import LocalProtocol
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12: what a node connection may cost busd (connections, threads,
/// queued bytes), how deliveries are counted, and frames busd cannot use.
@Suite("Node link: bounds, counting and unusable frames", .serialized)
struct NodeLinkBoundsTests {
    static let sid = "AgUEon6wzXtHqqioAAAB"

    static func deliver(_ size: Int) -> NodeCommand {
        .deliver(
            namespace: "/",
            socketIds: [sid],
            ackId: 0,
            packet: [UInt8](repeating: 0x32, count: size),
            attachments: [],
            volatile: false,
            compress: nil
        )
    }

    @Test func aConnectionOverTheLimitIsRefusedWithAnErrorFrame() throws {
        let f = try NodeLinkFixture(link: { $0.maximumConnections = 2 })
        defer { f.stop() }
        let first = try TestNodeClient(path: f.path)
        _ = try first.handshake()
        let second = try TestNodeClient(path: f.path)  // counts before its HELLO
        let third = try TestNodeClient(path: f.path)
        guard case .error(let code, let message)? = try third.receive() else {
            Issue.record("ERROR expected")
            return
        }
        #expect(code == 7, "\(message)")
        #expect(third.isClosedByPeer())
        #expect(f.link.refusedConnectionCount == 1)
        #expect(f.link.connectionCount == 2)
        _ = try second.handshake()
        first.send(.ping(token: 3))
        #expect(try first.receive() == .pong(token: 3))
        // A place frees up when a connection ends.
        second.disconnect()
        #expect(eventually { f.link.connectionCount == 1 })
        let fourth = try TestNodeClient(path: f.path)
        #expect(try fourth.handshake()?.name == "WELCOME")
    }

    @Test func aConnectionWithoutHelloIsClosedAfterTheHandshakeTimeOut() throws {
        let f = try NodeLinkFixture(link: { $0.handshakeTimeout = .milliseconds(300) })
        defer { f.stop() }
        let silent = try TestNodeClient(path: f.path)
        let dribbling = try TestNodeClient(path: f.path)
        dribbling.sendRaw([0, 0])  // half a length prefix, then nothing: the deadline does not move
        let greeted = try TestNodeClient(path: f.path)
        _ = try greeted.handshake()
        let started = ContinuousClock.now
        guard case .error(let code, _)? = try silent.receive(timeout: .seconds(3)) else {
            Issue.record("ERROR expected")
            return
        }
        #expect(code == 8)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(silent.isClosedByPeer())
        guard case .error(8, _)? = try dribbling.receive(timeout: .seconds(3)) else {
            Issue.record("ERROR 8 expected for the dribbling connection")
            return
        }
        #expect(f.link.handshakeTimeoutCount == 2)
        // A connection that said HELLO has no time-out.
        Thread.sleep(forTimeInterval: 0.5)
        greeted.send(.ping(token: 4))
        #expect(try greeted.receive() == .pong(token: 4))
        #expect(eventually { f.link.connectionCount == 1 })
    }

    /// A node that stops reading: what does not fit the budget is dropped as
    /// node_backlog and not counted as delivered; the bytes held stay within
    /// the budget and are given back when the connection ends.
    @Test func onlyQueuedDeliveriesCountAndTheQueueBudgetHolds() throws {
        let budget = 20 << 20
        let f = try NodeLinkFixture(link: { $0.queueBudget = budget })
        defer { f.stop() }
        let stalled = try TestNodeClient(path: f.path)
        _ = try stalled.handshake()
        #expect(eventually { f.link.connectionCount == 1 })
        for _ in 0..<40 { f.link.send(Self.deliver(1 << 20)) }
        let delivered = f.link.deliveredFrameCount
        let dropped = f.link.droppedFrameCount
        #expect(delivered + dropped == 40)
        #expect(dropped >= 15, "delivered \(delivered), dropped \(dropped)")
        #expect(f.link.queuedBytes <= budget)
        stalled.disconnect()
        #expect(eventually { f.link.connectionCount == 0 && f.link.queuedBytes == 0 })
    }

    /// One connector that stopped reading holds at most its share of the
    /// budget: the node's other connector, which reads, loses nothing.
    @Test func aStalledConnectionCannotStarveAHealthyOne() throws {
        let budget = 40 << 20
        let f = try NodeLinkFixture(link: { $0.queueBudget = budget })
        defer { f.stop() }
        let stalled = try TestNodeClient(path: f.path)
        _ = try stalled.handshake()
        let reader = try TestNodeClient(path: f.path)
        _ = try reader.handshake()
        #expect(eventually { f.link.connectionCount == 2 })
        var received = 0
        for _ in 0..<60 {
            f.link.send(Self.deliver(1 << 20))
            if case .deliver? = try reader.receive(timeout: .seconds(5)) { received += 1 }
        }
        #expect(received == 60, "the reading connection got \(received) of 60")
        // The stalled one kept at most half the budget (two connections share it).
        #expect(f.link.queuedBytes <= budget / 2 + (1 << 20), "\(f.link.queuedBytes) bytes queued")
        #expect(f.link.droppedFrameCount >= 15)
    }

    /// More socket ids than one frame can list: several DELIVERs, each with
    /// a part of them; a packet over 16 MiB: dropped, counted, the next goes.
    @Test func aDeliveryTooBigForOneFrameIsSplitOrDropped() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        #expect(eventually { f.link.connectionCount == 1 })
        let ids = (0..<1_000_000).map { String(format: "sock-%015d", $0) }  // 22 bytes framed each: 22 MB
        f.link.send(
            .deliver(
                namespace: "/",
                socketIds: ids,
                ackId: 7,
                packet: Array("2[\"n\"]".utf8),
                attachments: [],
                volatile: false,
                compress: nil
            )
        )
        var received: [String] = []
        var frames = 0
        while received.count < ids.count,
            case .deliver(7, _, "/", let part, _, _)? = try client.receive(timeout: .seconds(10))
        {
            received += part
            frames += 1
        }
        #expect(frames == 2)
        #expect(received == ids)
        #expect(f.link.deliveredFrameCount == 1)

        f.link.send(Self.deliver(16 << 20))
        #expect(f.link.unframableCount == 1)
        f.link.send(Self.deliver(3))
        guard case .deliver(_, _, _, _, let packet, _)? = try client.receive() else {
            Issue.record("no DELIVER after the dropped one")
            return
        }
        #expect(packet == [0x32, 0x32, 0x32])
        #expect(f.link.deliveredFrameCount == 2)
    }

    @Test func aBroadcastBusdCannotDecodeIsAnsweredAndTheLinkStays() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        client.send(.socketConnect(namespace: "/", socketId: Self.sid, connectedAt: 1))
        // socket.io-msgpack-parser's packet: a msgpack map, not a packet string.
        let msgpackPacket = Hex.bytes(
            "84a474797065 02 a46461746192a46e657773 01 a36e7370a12f a26964 ff".replacingOccurrences(of: " ", with: "")
        )
        client.send(
            .broadcast(
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: [],
                except: [],
                packet: msgpackPacket,
                attachments: []
            )
        )
        guard case .error(let code, let message)? = try client.receive() else {
            Issue.record("ERROR expected")
            return
        }
        #expect(code == 6, "\(message)")
        #expect(message.hasPrefix("BROADCAST packet"))
        // ACKED whose arguments are not a JSON array: the same.
        client.send(.acked(ackId: 1 << 52 | 1, socketId: Self.sid, status: .delivered, arguments: Array("{oops".utf8)))
        guard case .error(6, _)? = try client.receive() else {
            Issue.record("ERROR 6 expected for ACKED")
            return
        }
        client.send(.ping(token: 9))
        #expect(try client.receive() == .pong(token: 9))
        #expect(f.member.socket(Self.sid) != nil)
        #expect(f.link.rejectedFrameCount == 2)
        #expect(f.link.connectionCount == 1)
    }
}
