import CMallocTuning
import Foundation
import Logging
import NamedThreads
import Synchronization

/// Reads the bytes waiting in busd once a second and calls glibc's
/// `malloc_trim(0)` when ``MallocTrimPolicy`` says a large backlog has
/// drained, so that a stall's leftovers do not stay resident for good.
/// The queues keep their peak between readings, so a burst that came and
/// went within the second is seen without reading more often (ten
/// readings a second cost an idle busd 0.7 ms of CPU a second).
final class MallocTrimmer: Sendable {
    /// Seconds between two readings.
    static let readingInterval = 1.0

    /// Bytes waiting now, and the most at once since the last reading.
    struct Reading {
        var waitingBytes: Int
        var peakBytes: Int
    }

    private let policy: MallocTrimPolicy
    private let logger: Logger
    /// The subscriber's backlog and the node queues.
    private let read: @Sendable () -> Reading
    private let heartbeat = Heartbeat(name: "busd-malloc")
    private let trims = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    init(policy: MallocTrimPolicy = MallocTrimPolicy(), logger: Logger, read: @escaping @Sendable () -> Reading) {
        self.policy = policy
        self.logger = logger
        self.read = read
    }

    /// Trims done (`socketbus_malloc_trims_total`).
    var trimCount: Int { trims.load(ordering: .relaxed) }

    func start() {
        startThread(named: "busd-malloc", heartbeat: heartbeat) { [self] in run() }
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    private func run() {
        var policy = self.policy
        while !stopping.load(ordering: .relaxed) {
            heartbeat.beat()
            let reading = read()
            if case .trim(let peak) = policy.observe(
                waitingBytes: reading.waitingBytes,
                peakSinceLast: reading.peakBytes,
                at: .now
            ) {
                guard trim(afterPeakOf: peak) else { return }
                // A trim of a large heap takes a while: the watchdog's clock starts again.
                heartbeat.beat()
            }
            Thread.sleep(forTimeInterval: Self.readingInterval)
        }
    }

    /// False where the C library has no malloc_trim: nothing left to do.
    private func trim(afterPeakOf peak: Int) -> Bool {
        let started = ContinuousClock.now
        let returned = socketbus_malloc_trim()
        guard returned >= 0 else {
            logger.info("malloc_trim is not available: busd's freed memory stays with malloc")
            return false
        }
        trims.add(1, ordering: .relaxed)
        logger.debug(
            "malloc trimmed after a backlog drained",
            metadata: [
                "peak_bytes": "\(peak)", "returned": "\(returned == 1)",
                "took_us": "\((ContinuousClock.now - started).microseconds)",
            ]
        )
        return true
    }
}

extension Duration {
    fileprivate var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000 &+ attoseconds / 1_000_000_000_000
    }
}
