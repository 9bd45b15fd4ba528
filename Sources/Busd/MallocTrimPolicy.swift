/// When busd hands malloc's free pages back to the system: after the bytes
/// waiting in busd (the subscriber's backlog read from Redis, the frames
/// queued for the node) were many and have drained.
///
/// A stall (of the node, the router, the machine) fills those queues with
/// thousands of small blocks; when they drain, the blocks are free, but
/// scattered among live ones, so no arena's top can shrink and glibc keeps
/// the pages resident (bench/README.md: +9.4 MB after one stall, for good).
/// `malloc_trim(0)` gives back every free page inside the arenas too. It
/// holds each arena's lock while it walks the free chunks, so it runs only
/// once a backlog has drained, and not more often than ``minimumInterval``.
struct MallocTrimPolicy {
    /// A peak at least this large is worth a trim once drained.
    var largeBytes: Int
    /// Drained: at most this many bytes still waiting (a steady load keeps a few batches queued).
    var drainedBytes: Int
    var minimumInterval: Duration

    /// The largest wait seen since the last trim.
    private(set) var peakBytes = 0
    private var lastTrim: ContinuousClock.Instant?

    init(largeBytes: Int = 1 << 20, drainedBytes: Int = 256 << 10, minimumInterval: Duration = .seconds(10)) {
        self.largeBytes = largeBytes
        self.drainedBytes = drainedBytes
        self.minimumInterval = minimumInterval
    }

    enum Action: Equatable {
        case wait
        /// Trim now; the backlog had reached `peakBytes`.
        case trim(peakBytes: Int)
    }

    /// One reading: the bytes waiting now, and the most waiting at once
    /// since the last reading (a burst between two readings).
    mutating func observe(waitingBytes: Int, peakSinceLast: Int = 0, at now: ContinuousClock.Instant) -> Action {
        peakBytes = max(peakBytes, waitingBytes, peakSinceLast)
        guard peakBytes >= largeBytes, waitingBytes <= drainedBytes else { return .wait }
        // Too soon after the last one: the peak is kept, the trim comes when allowed.
        if let lastTrim, now - lastTrim < minimumInterval { return .wait }
        let peak = peakBytes
        lastTrim = now
        peakBytes = waitingBytes
        return .trim(peakBytes: peak)
    }
}
