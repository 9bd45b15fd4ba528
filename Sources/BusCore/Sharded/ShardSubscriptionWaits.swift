import Foundation
import Synchronization

/// The node's joins that wait until Redis has confirmed (the `ssubscribe`
/// reply was read) the SSUBSCRIBE of their rooms' channels: a stock sharded
/// node's `join()` resolves only then, so a broadcast another server
/// publishes after it is never missed. Each wait ends once, with `true`
/// when every channel is confirmed or `false` at its deadline.
final class ShardSubscriptionWaits: Sendable {
    private struct Wait {
        var missing: Set<String>
        var done: @Sendable (Bool) -> Void
    }

    private struct State {
        var waits: [UInt64: Wait] = [:]
        var nextId: UInt64 = 1
    }

    private let state = Mutex(State())
    private let timeouts = Atomic<Int>(0)
    private let waited = Atomic<Int>(0)

    /// Waits that found a channel not confirmed yet.
    var started: Int { waited.load(ordering: .relaxed) }

    /// Waits that reached their deadline.
    var timedOut: Int { timeouts.load(ordering: .relaxed) }

    /// Waits for `channels`; `confirmed` reads what Redis has confirmed so
    /// far, under this object's lock, so that a confirmation read meanwhile
    /// is never lost between the check and the wait.
    func wait(
        for channels: Set<String>,
        confirmed: () -> Set<String>,
        timeout: Duration,
        done: @escaping @Sendable (Bool) -> Void
    ) {
        let id: UInt64? = state.withLock { state in
            let missing = channels.subtracting(confirmed())
            guard !missing.isEmpty else { return nil }
            let id = state.nextId
            state.nextId &+= 1
            state.waits[id] = Wait(missing: missing, done: done)
            return id
        }
        guard let id else {
            done(true)
            return
        }
        waited.add(1, ordering: .relaxed)
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds)) { [self] in
            guard let wait = state.withLock({ $0.waits.removeValue(forKey: id) }) else { return }
            timeouts.add(1, ordering: .relaxed)
            wait.done(false)
        }
    }

    /// Redis confirmed the SSUBSCRIBE of `channel` (subscriber thread).
    func confirmed(_ channel: String) {
        let finished: [Wait] = state.withLock { state in
            guard !state.waits.isEmpty else { return [] }
            var finished: [Wait] = []
            for (id, var wait) in state.waits where wait.missing.remove(channel) != nil {
                if wait.missing.isEmpty {
                    state.waits[id] = nil
                    finished.append(wait)
                } else {
                    state.waits[id] = wait
                }
            }
            return finished
        }
        for wait in finished { wait.done(true) }
    }

    /// How many joins wait now.
    var pending: Int { state.withLock { $0.waits.count } }
}
