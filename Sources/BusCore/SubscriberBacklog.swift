import Durations
import Foundation
import Synchronization

/// The messages the subscriber's reader has taken off the socket and its
/// handler has not routed yet: batches (one per read from Redis), in
/// arrival order, bounded by a byte budget.
///
/// The reader never waits for the handler: Redis cuts a pub/sub client whose
/// output buffer grows past `client-output-buffer-limit pubsub`, and then
/// everything it held is lost without a trace. A message that does not fit
/// the budget is dropped here instead, and counted.
final class SubscriberBacklog: @unchecked Sendable {
    // @unchecked: everything but `dropped` is only touched with `condition` locked.

    /// Messages copied out of the read buffer, back to back. Its buffers
    /// are references: a batch belongs to the reader until pushed, then to
    /// the handler until recycled (the backlog's lock orders the hand-offs).
    struct Batch {
        private let buffer = ByteBuffer()
        /// Per message: where its channel ends and where its payload ends.
        private var ends: [Int] = []

        var isEmpty: Bool { ends.isEmpty }
        var count: Int { ends.count / 2 }
        /// Bytes of channel and payload.
        var byteCount: Int { buffer.count }
        /// Its number in push order (set by the reader as it pushes it).
        var sequence: UInt64 = 0
        /// When its first message was read from Redis (delivery latency).
        private(set) var firstReadAt: ContinuousClock.Instant?

        mutating func append(channel: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
            if ends.isEmpty { firstReadAt = .now }
            buffer.append(channel)
            ends.append(buffer.count)
            buffer.append(payload)
            ends.append(buffer.count)
        }

        /// The buffers' capacity, used or not.
        var retainedBytes: Int { buffer.capacity + ends.capacity * MemoryLayout<Int>.stride }

        mutating func removeAll() {
            buffer.removeAll()
            ends.removeAll(keepingCapacity: true)
            firstReadAt = nil
        }

        /// Each message in order, as pointers valid during the call only.
        func forEach(_ body: (_ channel: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Void) {
            let all = buffer.bytes
            var start = 0
            var index = 0
            while index + 1 < ends.count {
                let channelEnd = ends[index]
                let payloadEnd = ends[index + 1]
                body(
                    UnsafeRawBufferPointer(rebasing: all[start..<channelEnd]),
                    UnsafeRawBufferPointer(rebasing: all[channelEnd..<payloadEnd])
                )
                start = payloadEnd
                index += 2
            }
        }
    }

    /// The budget, in bytes of channel and payload.
    let limit: Int
    /// Messages that did not fit.
    let dropped = Atomic<Int>(0)
    private let condition = NSCondition()
    // Guarded by `condition`: @exclusivity(unchecked), the lock orders every access.
    @exclusivity(unchecked) private var queued: [Batch] = []
    @exclusivity(unchecked) private var queuedBytes = 0
    /// The most `queuedBytes` reached since ``takePeakBytes()`` last asked.
    @exclusivity(unchecked) private var peakBytes = 0
    @exclusivity(unchecked) private var spare: [Batch] = []
    @exclusivity(unchecked) private var closed = false

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// An empty batch (capacity reused) and the bytes it may take: the free
    /// budget now, which only grows until the batch is pushed.
    func startBatch() -> (Batch, room: Int) {
        locked { (spare.popLast() ?? Batch(), limit - queuedBytes) }
    }

    /// Queues `batch` for the handler (an empty one goes back to the spares).
    func push(_ batch: Batch) {
        locked {
            if batch.isEmpty {
                spare.append(batch)
                return
            }
            queuedBytes += batch.byteCount
            peakBytes = max(peakBytes, queuedBytes)
            queued.append(batch)
            condition.signal()
        }
    }

    /// Every batch queued, oldest first, once there is one; nil once closed.
    func take() -> [Batch]? {
        locked {
            while queued.isEmpty && !closed { condition.wait() }
            if closed { return nil }
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
    }

    /// As ``take()``, but empty when nothing came within `idleWake`.
    func take(idleWake: Duration) -> [Batch]? {
        locked {
            if queued.isEmpty && !closed { _ = condition.wait(until: Date() + idleWake.seconds) }
            if closed { return nil }
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
    }

    /// Hands back batches the handler is done with: their bytes leave the budget.
    func recycle(_ batches: [Batch]) {
        locked {
            for var batch in batches {
                queuedBytes -= batch.byteCount
                // A few spares are enough: the reader fills one while the handler
                // routes others. A batch grown large by a stall (one read of a
                // backlog in Redis) is freed: kept, four of them would hold the
                // peak's memory for good.
                if spare.count < 4 && batch.retainedBytes <= Self.spareBytesLimit {
                    batch.removeAll()
                    spare.append(batch)
                }
            }
        }
    }

    /// The largest batch (its buffers' capacity) kept for reuse: steady
    /// traffic reads far less at a time.
    static let spareBytesLimit = 1 << 20

    /// The capacity the spare batches hold (tests).
    var spareBytes: Int { locked { spare.reduce(0) { $0 + $1.retainedBytes } } }

    /// Bytes queued or being routed.
    var bytesWaiting: Int { locked { queuedBytes } }

    /// The most bytes waiting at once since the last call (a burst that
    /// came and went between two readings included); starts again from now.
    func takePeakBytes() -> Int {
        locked {
            defer { peakBytes = queuedBytes }
            return max(peakBytes, queuedBytes)
        }
    }

    func close() {
        locked {
            closed = true
            condition.broadcast()
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}
