import Testing

@testable import BusCore

@Suite("Subscriber backlog: the spare batches")
struct SubscriberBacklogSpareTests {
    static func filled(_ backlog: SubscriberBacklog, messages: Int) -> SubscriberBacklog.Batch {
        var (batch, _) = backlog.startBatch()
        let channel: [UInt8] = Array("socket.io#/#".utf8)
        let payload = [UInt8](repeating: 0x90, count: 100)
        for _ in 0..<messages {
            channel.withUnsafeBytes { c in payload.withUnsafeBytes { p in batch.append(channel: c, payload: p) } }
        }
        return batch
    }

    /// A batch of a stall's size (megabytes) is not kept once routed:
    /// RSS would otherwise stay at the stall's peak.
    @Test func aBatchGrownByAStallIsNotKept() {
        let backlog = SubscriberBacklog(limit: 64 << 20)
        let small = Self.filled(backlog, messages: 100)
        let large = Self.filled(backlog, messages: 20_000)  // about 2.2 MB
        backlog.push(small)
        backlog.push(large)
        guard let taken = backlog.take() else {
            Issue.record("closed")
            return
        }
        #expect(taken.count == 2)
        backlog.recycle(taken)
        #expect(backlog.bytesWaiting == 0)
        #expect(backlog.spareBytes > 0)
        #expect(backlog.spareBytes <= SubscriberBacklog.spareBytesLimit)
        // The small one is reused, with its capacity.
        let (reused, _) = backlog.startBatch()
        #expect(reused.isEmpty && reused.retainedBytes > 0)
    }

    /// The backlog keeps its largest size between two readings of the malloc
    /// trimmer: a burst routed before the next reading still counts.
    @Test func thePeakOutlivesTheBurst() {
        let backlog = SubscriberBacklog(limit: 64 << 20)
        #expect(backlog.takePeakBytes() == 0)
        let first = Self.filled(backlog, messages: 100)
        backlog.push(first)
        backlog.push(Self.filled(backlog, messages: 50))
        let peak = first.byteCount * 3 / 2
        guard let taken = backlog.take() else {
            Issue.record("closed")
            return
        }
        backlog.recycle(taken)
        #expect(backlog.bytesWaiting == 0)
        #expect(backlog.takePeakBytes() == peak)
        #expect(backlog.takePeakBytes() == 0, "from the last reading on")
    }

    @Test func theNodeQueuesKeepTheirPeakToo() {
        let budget = QueueBudget(limit: 10_000, smallestShare: 100)
        #expect(budget.take(3000) && budget.take(2000))
        budget.give(5000)
        #expect(budget.takePeakBytes() == 5000)
        #expect(budget.take(700))
        #expect(budget.takePeakBytes() == 700)
        #expect(budget.takePeakBytes() == 700, "still used")
    }
}
