import Synchronization

/// A Prometheus histogram of durations with fixed bucket bounds (seconds).
///
/// Observed on hot paths (the router, the ack tracker), read by /metrics:
/// one small mutex-guarded array, no allocation per observation.
public final class LatencyHistogram: Sendable {
    /// Upper bounds from 50 µs to 10 s: local delivery sits at the low end,
    /// Redis round trips and node answers in the middle, time-outs at the top.
    public static let defaultBounds: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// What /metrics prints: cumulative counts per bound, then +Inf.
    public struct Snapshot: Sendable, Equatable {
        public var bounds: [Double]
        /// `cumulative[i]` = observations <= `bounds[i]`; the count is the +Inf bucket.
        public var cumulative: [Int]
        public var count: Int
        public var sum: Double
    }

    private struct Counts {
        var perBucket: [Int]
        var count = 0
        var sum = 0.0
    }

    public let bounds: [Double]
    private let counts: Mutex<Counts>

    /// `bounds` must be ascending; anything else is sorted first.
    public init(bounds: [Double] = LatencyHistogram.defaultBounds) {
        self.bounds = bounds.sorted()
        counts = Mutex(Counts(perBucket: Array(repeating: 0, count: bounds.count)))
    }

    /// Negative or NaN durations (a clock that stepped) are counted as 0.
    public func observe(seconds: Double) {
        let value = seconds.isNaN || seconds < 0 ? 0 : seconds
        // Bounds are few (17): a linear scan beats a binary search here.
        let index = bounds.firstIndex { value <= $0 }
        counts.withLock { counts in
            if let index { counts.perBucket[index] += 1 }
            counts.count += 1
            counts.sum += value
        }
    }

    public func observe(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        observe(seconds: Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Observes the time since `start`.
    public func observe(since start: ContinuousClock.Instant) {
        observe(ContinuousClock.now - start)
    }

    public var snapshot: Snapshot {
        counts.withLock { counts in
            var running = 0
            let cumulative = counts.perBucket.map {
                running += $0; return running
            }
            return Snapshot(bounds: bounds, cumulative: cumulative, count: counts.count, sum: counts.sum)
        }
    }
}

/// busd's latency histograms, one per process like `ClusterStatistics.shared`.
public struct LatencyHistograms: Sendable {
    public static let shared = LatencyHistograms()

    /// A batch of adapter messages read from Redis → its DELIVER frames queued to the node.
    public let delivery = LatencyHistogram()
    /// Delivery dispatched to the node → the client's ack (delivered confirmations only).
    public let ack = LatencyHistogram()
    /// The registry mirror's periodic liveness write (one command round trip to Redis).
    public let redisRoundTrip = LatencyHistogram()
    /// A cluster request read from Redis → busd's answer published (for the node or itself).
    public let requestAnswer = LatencyHistogram()
}
