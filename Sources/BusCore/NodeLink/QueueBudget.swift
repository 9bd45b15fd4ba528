import Synchronization

/// One bound on the bytes queued for the node across all its connections, so
/// that connections that stop reading cannot grow busd's memory past it.
final class QueueBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    var usedBytes: Int { used.load(ordering: .relaxed) }

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
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back bytes written (or discarded with their connection).
    func give(_ count: Int) {
        used.subtract(count, ordering: .relaxed)
    }
}
