import Durations
import Foundation
import Logging
import NamedThreads

/// One channel's thread and queue: a channel that hangs until its time-out
/// holds up nothing but its own later alerts.
final class ChannelWorker: @unchecked Sendable {
    // @unchecked: every `var` below is read and written with `condition` locked.

    struct Job: Sendable {
        let event: AlertEvent
        /// Called on the worker's thread once the event is delivered or given up.
        let done: (@Sendable (ChannelResult) -> Void)?
    }

    let channel: any AlertChannel
    private let logger: Logger
    private let queueLimit: Int
    private let clock = ContinuousClock()
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopDeadline: ContinuousClock.Instant?
    private var finished = false
    private var counters: ChannelCounters
    /// Progress of the channel's thread, for busd's systemd watchdog.
    private let heartbeat: Heartbeat

    init(channel: any AlertChannel, logger: Logger, queueLimit: Int) {
        self.channel = channel
        var logger = logger
        logger[metadataKey: "channel"] = "\(channel.name)"
        self.logger = logger
        self.queueLimit = max(1, queueLimit)
        counters = ChannelCounters(channel: channel.name)
        heartbeat = Heartbeat(name: "alert-\(channel.name)")
    }

    func start() {
        startThread(named: "alert-\(channel.name)", heartbeat: heartbeat) { self.run() }
    }

    var snapshot: ChannelCounters { locked { counters } }

    /// Queues the event and returns at once. A full queue loses its oldest
    /// event: by the time the channel is back, the newest says more.
    func enqueue(_ job: Job) {
        var dropped: Job?
        let accepted: Bool = locked {
            guard stopDeadline == nil else {
                counters.dropped += 1
                return false
            }
            if queue.count >= queueLimit {
                dropped = queue.removeFirst()
                counters.dropped += 1
            }
            queue.append(job)
            condition.signal()
            return true
        }
        if !accepted { job.done?(result(.abandoned("alerting is stopping"), attempts: 0, since: clock.now)) }
        if let dropped {
            logger.warning(
                "alert queue full: dropped the oldest alert",
                metadata: ["alert": "\(dropped.event.summary)"]
            )
            dropped.done?(
                result(.abandoned("dropped: \(channel.name)'s queue was full"), attempts: 0, since: clock.now)
            )
        }
    }

    /// Takes no new events; what is queued may still go out until `deadline`.
    func stop(deadline: ContinuousClock.Instant) {
        locked {
            stopDeadline = deadline
            condition.broadcast()
        }
    }

    /// Whether the thread ended by `deadline` (it may be inside a transfer,
    /// which ends by its own time-out).
    func waitUntilFinished(deadline: ContinuousClock.Instant) -> Bool {
        locked {
            while !finished && clock.now < deadline {
                _ = condition.wait(until: Date() + (deadline - clock.now).seconds)
            }
            return finished
        }
    }

    private func run() {
        while let job = next() {
            // Not `job.done?(deliver(...))`: optional chaining would skip the
            // delivery itself when nobody waits for the result.
            let result = deliver(job.event)
            job.done?(result)
        }
        let abandoned: [Job] = locked {
            finished = true
            defer { queue.removeAll() }
            counters.dropped += queue.count
            condition.broadcast()
            return queue
        }
        for job in abandoned {
            job.done?(
                result(.abandoned("alerting stopped before \(channel.name) got to it"), attempts: 0, since: clock.now)
            )
        }
    }

    private func next() -> Job? {
        locked {
            while true {
                if let deadline = stopDeadline, queue.isEmpty || clock.now >= deadline { return nil }
                if !queue.isEmpty { return queue.removeFirst() }
                // At most a second at a time: an idle channel still beats.
                _ = condition.wait(until: Date() + 1)
                heartbeat.beat()
            }
        }
    }

    /// Attempts, with the policy's pauses between them, until one succeeds or
    /// the retries (or the stop deadline) run out.
    private func deliver(_ event: AlertEvent) -> ChannelResult {
        let start = clock.now
        let policy = channel.delivery
        var attempt = 0
        while true {
            attempt += 1
            // One attempt lasts at most the channel's time-out.
            heartbeat.beat(quietFor: policy.timeout + .seconds(1))
            locked { counters.attempts += 1 }
            do {
                try channel.deliver(event)
                locked { counters.sent += 1 }
                let elapsed = clock.now - start
                logger.info(
                    "alert delivered",
                    metadata: [
                        "alert": "\(event.status)", "attempts": "\(attempt)", "ms": "\(elapsed.milliseconds)",
                    ]
                )
                return result(nil, attempts: attempt, since: start)
            } catch {
                guard attempt <= policy.retries else {
                    locked { counters.failed += 1 }
                    logger.error(
                        "alert not delivered: \(error)",
                        metadata: ["alert": "\(event.status)", "attempts": "\(attempt)", "target": "\(channel.target)"]
                    )
                    return result(error, attempts: attempt, since: start)
                }
                let pause = policy.pause(afterAttempt: attempt)
                heartbeat.beat(quietFor: pause + .seconds(1))
                logger.warning(
                    "alert attempt \(attempt) failed, retrying in \(HumanDuration.format(pause)): \(error)",
                    metadata: ["target": "\(channel.target)"]
                )
                if !sleep(pause) {
                    locked { counters.failed += 1 }
                    return result(.abandoned("\(error) (no retry: alerting stopped)"), attempts: attempt, since: start)
                }
            }
        }
    }

    /// Waits `pause` unless the stop deadline comes first; false then.
    private func sleep(_ pause: Duration) -> Bool {
        let until = clock.now + pause
        return locked {
            while clock.now < until {
                if let deadline = stopDeadline, clock.now >= deadline { return false }
                let wake = min(until, stopDeadline ?? until)
                _ = condition.wait(until: Date() + (wake - clock.now).seconds)
            }
            return true
        }
    }

    private func result(_ error: ChannelError?, attempts: Int, since start: ContinuousClock.Instant) -> ChannelResult {
        ChannelResult(
            channel: channel.name,
            target: channel.target,
            error: error?.description,
            attempts: attempts,
            elapsed: clock.now - start
        )
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}
