import Foundation
import LocalProtocol
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

@testable import BusCore

/// The router's own way to the node (NodeLinkServer+Deliveries.swift): the
/// frame it queues is the frame the command path queues for the same
/// delivery, it is counted the same, and what one frame cannot carry still
/// takes the command path (split, or dropped and counted).
@Suite("Node link: the router's direct deliveries", .serialized)
struct NodeLinkDirectDeliveryTests {
    static let sid = "AgUEon6wzXtHqqioAAAB"
    static let packet = Array(#"2["toRoom",{"room":"roomA"}]"#.utf8)

    @Test func aStartedLinkTakesTheRoutersDeliveriesAndAStoppedOneNot() throws {
        let f = try NodeLinkFixture()
        #expect(f.member.deliveryLink.withLock { $0 } === f.link)
        f.stop()
        #expect(f.member.deliveryLink.withLock { $0 } == nil)
    }

    @Test func deliverQueuesTheFrameTheCommandPathQueues() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        #expect(eventually { f.link.connectionCount == 1 })
        let flags = DeliveryFlags(volatile: true, compress: false)
        let attachments: [[UInt8]] = [[0, 1, 0xff], []]
        f.link.deliver(
            namespace: "/chät", socketIds: [Self.sid, "b"], ackId: 9, packet: Self.packet, attachments: attachments,
            flags: flags)
        f.link.send(
            .deliver(
                namespace: "/chät", socketIds: [Self.sid, "b"], ackId: 9, packet: Self.packet, attachments: attachments,
                volatile: true, compress: false))
        f.link.flush()
        let direct = try client.receive()
        let viaCommand = try client.receive()
        #expect(direct != nil)
        #expect(direct == viaCommand)
        #expect(
            direct
                == .deliver(
                    ackId: 9, flags: flags, namespace: "/chät", socketIds: [Self.sid, "b"], packet: Self.packet,
                    attachments: attachments))
        #expect(f.link.deliveredFrameCount == 2)
    }

    @Test func deliverToRoomsGoesToVersion2SessionsOnly() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let v1 = try TestNodeClient(path: f.path)
        _ = try v1.handshake()
        #expect(eventually { f.link.connectionCount == 1 })
        let rooms: [LocalRoom] = [.name("roomA"), .number(-0.0), .number(3)]
        let except: [LocalRoom] = [.name("x")]
        f.link.deliverToRooms(
            namespace: "/", rooms: rooms, except: except, ackId: 0, packet: Self.packet, attachments: [],
            flags: DeliveryFlags())
        #expect(f.link.droppedWithoutNodeCount == 1)
        #expect(f.link.deliveredFrameCount == 0)

        let v2 = try TestNodeClient(path: f.path)
        v2.send(.hello(version: 2, node: "test-node", pid: 1))
        #expect(try v2.receive()?.name == "WELCOME")
        #expect(eventually { f.link.connectionCount == 2 })
        f.link.deliverToRooms(
            namespace: "/", rooms: rooms, except: except, ackId: 0, packet: Self.packet, attachments: [],
            flags: DeliveryFlags())
        f.link.send(
            .deliverToRooms(
                namespace: "/", rooms: rooms.map(Room.init), except: except.map(Room.init), ackId: 0,
                packet: Self.packet, attachments: [], volatile: false, compress: nil))
        f.link.flush()
        var frames: [LocalFrame] = []
        while frames.count < 2, let frame = try v2.receive() {
            if frame.name == "DELIVER_TO_ROOMS" { frames.append(frame) }
        }
        #expect(frames.count == 2)
        #expect(frames.first == frames.last)
        guard case .deliverToRooms(_, _, _, let gotRooms, _, _, _)? = frames.first, case .number(let zero) = gotRooms[1]
        else {
            Issue.record("no DELIVER_TO_ROOMS")
            return
        }
        #expect(zero.sign == .minus)
        #expect(f.link.deliveredFrameCount == 2)
    }

    /// More socket ids than one frame lists: the command path splits them;
    /// a packet over 16 MiB is dropped and counted as unframable.
    @Test func whatOneFrameCannotCarryTakesTheCommandPath() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        #expect(eventually { f.link.connectionCount == 1 })
        let ids = (0..<1_000_000).map { String(format: "sock-%015d", $0) }
        f.link.deliver(namespace: "/", socketIds: ids, ackId: 7, packet: Self.packet, attachments: [], flags: .init())
        f.link.flush()
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

        f.link.deliver(
            namespace: "/", socketIds: [Self.sid], ackId: 0, packet: [UInt8](repeating: 0x32, count: 16 << 20),
            attachments: [], flags: .init())
        #expect(f.link.unframableCount == 1)
        #expect(f.link.deliveredFrameCount == 1)
    }
}
