import ClusterRequests
import Foundation
import Logging
import NamedThreads
import Synchronization

/// The request state machines behind one lock, with the clock they run on
/// and the timer thread that fires their deadlines. Every event goes in
/// through ``run(_:)``; the actions it returns are performed outside the lock.
final class ClusterRequestEngine: Sendable {
    struct Machines: Sendable {
        var incoming: IncomingRequests
        var outgoing: OutgoingRequests
        /// The deadline the timer thread sleeps until (`.max`: none); an
        /// event wakes it only when it set an earlier one.
        var timerTarget: UInt64 = .max

        /// The earliest deadline of either machine, or a little earlier.
        var deadlineHint: UInt64? {
            [incoming.deadlineHint, outgoing.deadlineHint].compactMap { $0 }.min()
        }
    }

    private let machines: Mutex<Machines>
    private let origin = ContinuousClock.now
    private let wake = NSCondition()
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// Bumped by every event, so the timer never sleeps past a deadline set meanwhile.
    private let events = Atomic<UInt64>(0)
    private let finished = DispatchSemaphore(value: 0)
    /// The timer thread's sign of progress for the systemd watchdog.
    let heartbeat = Heartbeat(name: "busd-requests")
    /// Performs actions; `fromTimer` says they come from the timer thread
    /// (commands for the node need a flush there).
    private let perform: @Sendable (_ actions: [ClusterAction], _ fromTimer: Bool) -> Void
    private let logger: Logger

    init(
        incoming: IncomingRequests,
        outgoing: OutgoingRequests,
        logger: Logger,
        perform: @escaping @Sendable (_ actions: [ClusterAction], _ fromTimer: Bool) -> Void
    ) {
        machines = Mutex(Machines(incoming: incoming, outgoing: outgoing))
        self.perform = perform
        self.logger = logger
    }

    /// Milliseconds on the engine's monotonic clock, rounded down (the
    /// timer's view: a deadline has passed once this reaches it).
    var now: UInt64 { milliseconds(roundingUp: false) }

    /// Events take the time rounded up, so that a deadline `t` ms after one
    /// is never reached before `t` ms have really passed.
    private func milliseconds(roundingUp: Bool) -> UInt64 {
        let elapsed = ContinuousClock.now - origin
        let whole = UInt64(max(0, elapsed.components.seconds)) * 1000
        let attoseconds = max(0, elapsed.components.attoseconds)
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let part = UInt64(attoseconds / perMillisecond) + (roundingUp && attoseconds % perMillisecond != 0 ? 1 : 0)
        return whole + part
    }

    /// Applies one event to the machines and returns its actions (not yet
    /// performed: the caller performs them, on its own thread).
    /// `addsDeadline: false` for events that can only settle or forget
    /// (answers, acks, responses): the timer is not woken for them.
    func run(
        addsDeadline: Bool = true,
        _ event: (inout Machines, _ now: UInt64) -> [ClusterAction]
    ) -> [ClusterAction] {
        let time = milliseconds(roundingUp: true)
        let (actions, earlier) = machines.withLock { machines in
            let actions = event(&machines, time)
            // Only a deadline earlier than the timer's own needs it awake:
            // most requests are answered at once and set none.
            let earlier = addsDeadline && (machines.deadlineHint.map { $0 < machines.timerTarget } ?? false)
            if earlier { machines.timerTarget = machines.deadlineHint ?? .max }
            return (actions, earlier)
        }
        guard earlier else { return actions }
        events.add(1, ordering: .releasing)
        wake.lock()
        wake.signal()
        wake.unlock()
        return actions
    }

    /// Reads the machines.
    func read<R: Sendable>(_ body: (Machines) -> R) -> R { machines.withLock { body($0) } }

    func start() {
        started.store(true, ordering: .relaxed)
        startThread(named: "busd-requests", heartbeat: heartbeat) { [self] in
            timerLoop()
            finished.signal()
        }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        wake.lock()
        wake.signal()
        wake.unlock()
        // A member that was never started has no thread to wait for.
        if started.load(ordering: .relaxed) {
            join(finished, thread: "busd-requests", patience: .seconds(3), logger: logger)
        }
    }

    private func timerLoop() {
        while !stopping.load(ordering: .relaxed) {
            // Every turn, the idle wake-up (at most 1 s) included.
            heartbeat.beat()
            let seen = events.load(ordering: .acquiring)
            let time = now
            let (actions, next) = machines.withLock { machines -> ([ClusterAction], UInt64?) in
                let actions = machines.incoming.expire(now: time) + machines.outgoing.expire(now: time)
                let next = machines.deadlineHint
                machines.timerTarget = next ?? .max
                return (actions, next)
            }
            if !actions.isEmpty { perform(actions, true) }
            let wait = next.map { $0 > time ? Double($0 - time) / 1000 : 0 } ?? 1
            guard wait > 0 else { continue }
            wake.lock()
            if events.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                _ = wake.wait(until: Date(timeIntervalSinceNow: min(wait, 1)))
            }
            wake.unlock()
        }
    }
}
