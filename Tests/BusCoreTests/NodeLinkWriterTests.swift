@testable import BusCore
import Foundation
import LocalProtocol
import Testing
import TestSupport

/// Issue 17: how the writer hands the node a batch of frames (one write per
/// batch the router flushes, so one read and one wake-up on the node), and
/// what memory it keeps between writes.
@Suite("Node link: the writer's batches and buffers", .serialized)
struct NodeLinkWriterTests {
    static func deliver(_ size: Int) -> NodeCommand {
        NodeLinkBoundsTests.deliver(size)
    }

    /// A DELIVER whose ack id numbers it (order checks).
    static func deliverNumbered(_ ackId: UInt64, size: Int) -> NodeCommand {
        .deliver(
            namespace: "/", socketIds: [NodeLinkBoundsTests.sid], ackId: ackId,
            packet: [UInt8](repeating: 0x32, count: size), attachments: [], volatile: false, compress: nil)
    }

    /// The router's pattern: deliveries queued without a flush, then one flush.
    static func batch(_ link: NodeLinkServer, frames: Int, size: Int = 40) {
        for index in 0..<frames {
            link.send(deliver(size), flush: false)
            // The router routes the rest of the read meanwhile: the writer,
            // woken by the first frame, has time to act before the flush.
            if index == 0 { usleep(300) }
        }
        link.flush()
    }

    @Test func theFramesOfOneBatchLeaveInOneWrite() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        #expect(eventually { f.link.connectionCount == 1 })
        Thread.sleep(forTimeInterval: 0.05)

        var writes = f.link.nodeWriteCount
        Self.batch(f.link, frames: 4)
        for _ in 0..<4 { #expect(try client.receive()?.name == "DELIVER") }
        #expect(f.link.nodeWriteCount - writes == 1)

        // A batch with nothing for this node flushes an empty queue: that
        // must not make the next batch's first frame leave alone.
        for _ in 0..<3 {
            writes = f.link.nodeWriteCount
            f.link.flush()
            Thread.sleep(forTimeInterval: 0.01)
            Self.batch(f.link, frames: 4)
            for _ in 0..<4 { #expect(try client.receive()?.name == "DELIVER") }
            #expect(f.link.nodeWriteCount - writes == 1)
        }
    }

    @Test func aBurstDoesNotKeepItsBuffer() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        #expect(eventually { f.link.connectionCount == 1 })

        // About 600 KB in one batch (a node that fell behind), then small batches.
        Self.batch(f.link, frames: 10, size: 60_000)
        for _ in 0..<10 { #expect(try client.receive()?.name == "DELIVER") }
        for _ in 0..<3 {
            Self.batch(f.link, frames: 2)
            for _ in 0..<2 { #expect(try client.receive()?.name == "DELIVER") }
        }
        #expect(eventually { f.link.queuedBytes == 0 })
        #expect(f.link.keptWriteBufferBytes > 0)
        #expect(f.link.keptWriteBufferBytes <= 2 * NodeConnection.keptBufferCapacity)
        #expect(f.link.keptWriteBufferBytes <= 512 << 10)
    }
}
