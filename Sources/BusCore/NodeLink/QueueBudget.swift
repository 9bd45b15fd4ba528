import Synchronization

/// One bound on the bytes queued for the node across all its connections, so
/// that connections that stop reading cannot grow busd's memory past it.
///
/// A connection holds at most its share of the budget (the budget divided
/// among the connections that said HELLO, never less than one largest
/// frame): one connector that stopped reading cannot take it all and starve
/// the node's other, healthy connectors.
final class QueueBudget: Sendable {
    let limit: Int
    /// The least share: one largest frame with its length prefix.
    let smallestShare: Int
    private let used = Atomic<Int>(0)
    private let holders = Atomic<Int>(0)
    /// The most `used` reached since ``takePeakBytes()`` last asked (it
    /// tells the malloc trimmer a backlog was large).
    private let peak = Atomic<Int>(0)

    init(limit: Int, smallestShare: Int) {
        self.limit = limit
        self.smallestShare = min(smallestShare, limit)
    }

    var usedBytes: Int { used.load(ordering: .relaxed) }

    /// A connection joins the sharing (after its HELLO) and leaves it once.
    func join() { holders.add(1, ordering: .relaxed) }
    func leave() { holders.subtract(1, ordering: .relaxed) }

    /// What one connection may hold now.
    var share: Int { max(smallestShare, limit / max(1, holders.load(ordering: .relaxed))) }

    /// Takes `count` bytes for a connection that holds `held` already;
    /// false (nothing taken) past its share or past the budget.
    func take(_ count: Int, holding held: Int) -> Bool {
        guard count <= share - held else { return false }
        return take(count)
    }

    /// Takes `count` bytes from the budget; false (nothing taken) when they
    /// would go past it.
    func take(_ count: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard count <= limit - current else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current,
                desired: current + count,
                ordering: .relaxed
            )
            if exchanged {
                // One load per take; a read-modify-write only when the peak rises.
                if current + count > peak.load(ordering: .relaxed) { peak.max(current + count, ordering: .relaxed) }
                return true
            }
            current = original
        }
    }

    /// The most bytes used at once since the last call; starts again from now.
    func takePeakBytes() -> Int {
        let now = used.load(ordering: .relaxed)
        return max(peak.exchange(now, ordering: .relaxed), now)
    }

    /// Gives back bytes written (or discarded with their connection).
    func give(_ count: Int) {
        used.subtract(count, ordering: .relaxed)
    }
}
