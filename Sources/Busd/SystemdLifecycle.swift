import BusCore
import Dispatch
import Foundation
import Logging
import NamedThreads
import Synchronization

/// busd's side of Type=notify: READY=1 once /readyz would say ready,
/// WATCHDOG=1 every half watchdog interval while busd's threads make
/// progress, STOPPING=1 when the drain starts.
final class SystemdLifecycle: Sendable {
    let notifier: SystemdNotifier
    private let member: ClusterMember
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    /// READY=1 was sent: a reload before it must not claim readiness.
    private let announced = Atomic<Bool>(false)

    init(notifier: SystemdNotifier, member: ClusterMember, logger: Logger) {
        self.notifier = notifier
        self.member = member
        self.logger = logger
    }

    func start() {
        guard notifier.isEnabled else { return }
        Thread.detachNewThread { [self] in announceReadiness() }
        if let interval = notifier.watchdogInterval {
            Thread.detachNewThread { [self] in keepWatchdogFed(every: interval) }
        }
    }

    func drainStarted() {
        stopping.store(true, ordering: .releasing)
        notifier.notify("STOPPING=1")
    }

    /// systemd (253+) wants the monotonic time with RELOADING=1.
    func reloading() {
        guard announced.load(ordering: .acquiring) else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }
    func reloaded() {
        guard announced.load(ordering: .acquiring) else { return }
        notifier.notify("READY=1")
    }

    /// Same test as /readyz: subscription confirmed, registry written, no fresh data loss.
    private func announceReadiness() {
        while !stopping.load(ordering: .acquiring) {
            if member.readiness.isReady {
                notifier.notify("READY=1\nSTATUS=ready: Redis connected, serving the node")
                announced.store(true, ordering: .releasing)
                logger.info("told systemd: ready")
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// A ping needs the main queue (signals, the drain) to run a block, the
    /// member's shared state to be readable (the subscriber and the node-link
    /// threads take those locks), and every long-lived thread (subscriber,
    /// router, node link, registry mirror, alerting, HTTP) to have beaten its
    /// heartbeat within ``stallBound(for:)``; a hang stops the pings and
    /// systemd restarts busd.
    private func keepWatchdogFed(every interval: Duration) {
        let bound = Self.stallBound(for: interval)
        var reported: [String] = []
        while true {
            let answered = DispatchSemaphore(value: 0)
            DispatchQueue.main.async { answered.signal() }
            let waitMicroseconds = max(1, interval.milliseconds) * 1000
            if answered.wait(timeout: .now() + .microseconds(Int(waitMicroseconds))) == .success {
                _ = member.readiness
                _ = member.statistics
                let stalled = Heartbeats.stalled(longerThan: bound)
                if stalled.isEmpty {
                    notifier.notify("WATCHDOG=1")
                    if !reported.isEmpty { logger.notice("watchdog: every thread makes progress again") }
                } else if stalled.map(\.name) != reported {
                    // Once per change, not every interval.
                    let names = stalled.map { "\($0.name) (silent \($0.overdue.milliseconds) ms)" }
                    logger.error(
                        "watchdog: thread(s) made no progress; not telling systemd we are alive",
                        metadata: ["threads": "\(names.joined(separator: ", "))"]
                    )
                }
                reported = stalled.map(\.name)
            } else {
                logger.error("watchdog: the main queue did not answer; not telling systemd we are alive")
            }
            Thread.sleep(forTimeInterval: Double(max(1, interval.milliseconds)) / 1000)
        }
    }

    /// How long a thread may go without a beat (beyond a wait it announced)
    /// before the pings stop: the ping interval, but at least 2 s, twice
    /// the longest idle wake-up of the watched threads (1 s).
    static func stallBound(for interval: Duration) -> Duration { max(interval, .seconds(2)) }
}
