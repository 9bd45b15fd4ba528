import Durations
public import Foundation
public import Logging
import NamedThreads

/// Redis outage alerting for busd: an ``OutageMonitor`` fed by
/// ``reachabilityChanged(_:)``, a timer thread for the grace and repeat
/// deadlines, the sender choice (``SenderChoice``) and an
/// ``AlertDispatcher`` that sends. Nothing here blocks the caller.
public final class OutageAlerter: @unchecked Sendable {
    // @unchecked: `settings`, `active`, `retired`, `monitor`, `pending`,
    // `current`, `stopping` and `timerFinished` are only touched with
    // `condition` locked.

    /// What alerting knows now, for logs, readiness and metrics.
    public struct State: Sendable, Equatable {
        public var redisReachable = true
        /// Why Redis is out of reach (the last cause reported); names the alert.
        public var cause = OutageCause.unreachable
        /// When the outage in progress began (wall clock); nil when there is none.
        public var outageStartedAt: Date?
        /// Alerts due so far for the outage in progress, sent or kept quiet.
        public var alertsDue = 0
        /// Of those, how many this busd sent.
        public var alertsSent = 0
        /// The sender choice made for the last alert due.
        public var lastDecision: SenderChoice.Decision?
        /// Since start: alerts (first or repeated) handed to the channels.
        public var firingsSent = 0
        /// Since start: alerts this busd kept quiet (not a sender, or no channel).
        public var firingsQuiet = 0
        /// Since start: resolved notices handed to the channels.
        public var resolvedSent = 0
        /// Since start: data-loss notices handed to the channels.
        public var dataLossSent = 0
    }

    /// The dispatcher of the settings in effect (a reload replaces it).
    public var dispatcher: AlertDispatcher { locked { active } }
    /// The settings in effect (a reload replaces them).
    public var settings: AlertSettings { locked { currentSettings } }
    private var currentSettings: AlertSettings
    private var active: AlertDispatcher
    /// Dispatchers a reload replaced: they send what they held, and their
    /// counts stay in ``counters``.
    private var retired: [AlertDispatcher] = []
    private let hostName: String
    private let source: AlertSource
    /// Progress of the timer thread, for busd's systemd watchdog.
    private let timerHeartbeat = Heartbeat(name: "alert-timer")
    private let knownNodes: @Sendable () -> [String]
    private let logger: Logger
    private let clock = ContinuousClock()
    private let condition = NSCondition()
    private var monitor: OutageMonitor
    private var pending: [OutageMonitor.Action] = []
    private var current = State()
    private var stopping = false
    private var timerFinished = false
    /// The cause the last alert of the outage in progress went out under (its resolved notice says the same).
    private var firedCause = OutageCause.unreachable

    /// - Parameters:
    ///   - node: this busd's node id (the `node` label, and its place in the sender choice).
    ///   - redisDescription: the Redis URL; a password in it is removed.
    ///   - knownNodes: the node ids this busd last saw alive in Redis; called
    ///     on the timer thread when an alert is due, never under a lock of ours.
    public init(
        settings: AlertSettings,
        node: String,
        redisDescription: String,
        hostName: String = AlertDispatcher.localHostName,
        knownNodes: @escaping @Sendable () -> [String],
        logger: Logger
    ) {
        self.currentSettings = settings
        self.hostName = hostName
        self.source = AlertSource(node: node, host: hostName, redis: redisDescription)
        self.knownNodes = knownNodes
        var logger = logger
        logger[metadataKey: "node"] = "\(node)"
        self.logger = logger
        monitor = OutageMonitor(grace: settings.grace, repeatInterval: settings.repeatInterval)
        active = AlertDispatcher(settings: settings, hostName: hostName, logger: logger)
        logSetup(settings, channels: active.channels)
        startThread(named: "alert-timer", heartbeat: timerHeartbeat) { self.runTimer() }
    }

    /// Tells alerting whether Redis answers. Cheap, idempotent and callable
    /// from any thread: whatever it leads to runs on the timer thread.
    public func reachabilityChanged(_ reachable: Bool) {
        let now = clock.now
        let date = Date()
        locked {
            let action = reachable ? monitor.redisReachable(now: now) : monitor.redisUnreachable(now: now, date: date)
            current.redisReachable = reachable
            if reachable { current.cause = .unreachable }
            if let action { pending.append(action) }
            // Also when nothing is due yet: the timer has a new deadline to wait for.
            condition.signal()
        }
    }

    /// Tells alerting that Redis cut this busd's subscriber and messages were
    /// lost (`cause` a label value, `why` a sentence). Sent at once, with no
    /// grace: the loss has happened. Only this busd saw it, so the election
    /// of senders does not apply; `--alert-role never` still keeps it quiet.
    public func dataLost(cause: String, why: String) {
        let date = Date()
        let settings = self.settings
        let sends = settings.role != .never && settings.hasChannels
        if sends { locked { current.dataLossSent += 1 } }
        guard settings.role != .never else {
            logger.warning("Redis data loss: this node does not send the alert (--alert-role never)")
            return
        }
        guard settings.hasChannels else {
            logger.error("Redis data loss: no alert channel configured (--smtp-url, --webhook-url)")
            return
        }
        submit(.dataLoss(source: source, at: date, cause: cause, why: why)) { names in
            logger.error("Redis data loss: sending a notice via \(names)")
        }
    }

    /// Tells alerting why Redis is out of reach: the next alert of the
    /// outage is named after it. Reaching Redis again resets it.
    public func causeChanged(_ cause: OutageCause) {
        locked { current.cause = cause }
    }

    public var state: State {
        locked {
            var state = current
            state.outageStartedAt = monitor.outage?.startedAt
            return state
        }
    }

    /// Per channel: sent, failed, attempts, dropped; a channel's counts
    /// include those of the dispatchers reloads replaced (they never go back).
    public var counters: [ChannelCounters] {
        let dispatchers = locked { [active] + retired }
        return ChannelCounters.merged(dispatchers.map(\.counters))
    }

    /// New settings (SIGHUP): the next alerts go to the new channels, with
    /// the new thresholds, role and senders; the outage in progress carries
    /// on. The replaced dispatcher sends what it already holds (retries
    /// included) and then ends: no alert in flight is dropped. Returns the
    /// parts that changed (`channels`, `grace`, `repeat`, `role`,
    /// `senders`); empty when nothing did.
    @discardableResult
    public func apply(_ fresh: AlertSettings) -> [String] {
        let previous = settings
        var changed: [String] = []
        let channelsChanged = fresh.smtp != previous.smtp || fresh.webhooks != previous.webhooks
        if channelsChanged { changed.append("channels") }
        if fresh.grace != previous.grace { changed.append("grace") }
        if fresh.repeatInterval != previous.repeatInterval { changed.append("repeat") }
        if fresh.role != previous.role { changed.append("role") }
        if fresh.senders != previous.senders { changed.append("senders") }
        guard !changed.isEmpty else { return [] }
        // Made (threads started) outside the lock; swapped in under it, so
        // every submit goes either to the old one before it stops or to this one.
        let replacement = channelsChanged ? AlertDispatcher(settings: fresh, hostName: hostName, logger: logger) : nil
        let replaced: AlertDispatcher? = locked {
            currentSettings = fresh
            monitor.retime(grace: fresh.grace, repeatInterval: fresh.repeatInterval)
            condition.signal()  // the timer has a new deadline to wait for
            guard let replacement else { return nil }
            let old = active
            active = replacement
            retired.append(old)
            return old
        }
        if let replaced {
            let allowance = replaced.longestDelivery + .seconds(1)
            startThread(named: "alert-retire") { replaced.stop(timeout: allowance) }
        }
        logSetup(fresh, channels: locked { active.channels })
        return changed
    }

    /// Stops the timer, then gives queued alerts up to `timeout` to go out.
    public func stop(timeout: Duration = .seconds(5)) {
        let deadline = clock.now + timeout
        locked {
            stopping = true
            condition.broadcast()
            while !timerFinished && clock.now < deadline {
                _ = condition.wait(until: Date() + (deadline - clock.now).seconds)
            }
        }
        for dispatcher in locked({ [active] + retired }) {
            dispatcher.stop(timeout: max(.zero, deadline - clock.now))
        }
    }

    /// Hands `event` to the dispatcher in effect, under the lock a reload
    /// swaps it with; `announce` gets the channel names (called before).
    private func submit(_ event: AlertEvent, announce: (String) -> Void) {
        locked {
            announce(active.channels.map(\.name).joined(separator: ", "))
            active.submit(event)
        }
    }

    /// One line at start saying where alerts go (never a secret), and a
    /// warning when the SMTP password could cross the network in clear text.
    private func logSetup(_ settings: AlertSettings, channels: [any AlertChannel]) {
        let channels = channels.map { "\($0.name) (\($0.target))" }.joined(separator: ", ")
        let role =
            settings.role == .elected ? "elected, \(settings.senders) sender(s) per cluster" : settings.role.rawValue
        logger.info(
            "alerting: \(channels.isEmpty ? "no channel, outages are only logged" : channels)",
            metadata: [
                "grace": "\(HumanDuration.format(settings.grace))",
                "repeat":
                    "\(settings.repeatInterval == .zero ? "never" : HumanDuration.format(settings.repeatInterval))",
                "role": "\(role)",
            ]
        )
        if let smtp = settings.smtp, smtp.password != nil, !smtp.implicitTLS, smtp.startTLS != .required {
            logger.warning(
                "the SMTP password may be sent in clear text: use --smtp-starttls require or an smtps:// URL"
            )
        }
    }

    private func runTimer() {
        while let actions = nextActions() {
            for action in actions { handle(action) }
        }
        locked {
            timerFinished = true
            condition.broadcast()
        }
    }

    /// Waits for reported actions or the monitor's next deadline; nil once
    /// stopping with nothing left to hand over.
    private func nextActions() -> [OutageMonitor.Action]? {
        locked {
            while true {
                timerHeartbeat.beat()
                if let action = monitor.tick(now: clock.now) { pending.append(action) }
                if !pending.isEmpty {
                    defer { pending.removeAll() }
                    return pending
                }
                if stopping { return nil }
                // At most a second at a time: an idle timer still beats.
                let due = monitor.nextDeadline.map { min(.seconds(1), max(.zero, $0 - clock.now)) } ?? .seconds(1)
                _ = condition.wait(until: Date() + due.seconds)
            }
        }
    }

    private func handle(_ action: OutageMonitor.Action) {
        switch action {
        case .fire(let fire): handleFire(fire)
        case .resolve(let resolve): handleResolve(resolve)
        }
    }

    private func handleFire(_ fire: OutageMonitor.Fire) {
        let settings = self.settings
        let decision = SenderChoice.decide(
            role: settings.role,
            senders: settings.senders,
            node: source.node,
            knownNodes: knownNodes()
        )
        let sends = decision.sends && settings.hasChannels
        let cause: OutageCause = locked {
            firedCause = current.cause
            return current.cause
        }
        locked {
            current.alertsDue = fire.repeatNumber
            current.lastDecision = decision
            if sends {
                current.alertsSent += 1
                current.firingsSent += 1
            } else {
                current.firingsQuiet += 1
            }
        }
        let lasted = HumanDuration.format(fire.duration)
        let metadata: Logger.Metadata = [
            "outage_start": "\(AlertTimestamp.rfc3339(fire.startedAt))", "alert": "\(fire.repeatNumber)",
        ]
        guard decision.sends else {
            logger.warning(
                "\(cause.summary) for \(lasted): this node does not send the alert (\(decision.reason))",
                metadata: metadata
            )
            return
        }
        guard settings.hasChannels else {
            logger.error(
                "\(cause.summary) for \(lasted): no alert channel configured (--smtp-url, --webhook-url)",
                metadata: metadata
            )
            return
        }
        let event = AlertEvent.outageFiring(
            source: source,
            startedAt: fire.startedAt,
            duration: fire.duration,
            repeatNumber: fire.repeatNumber,
            cause: cause
        )
        submit(event) { names in
            logger.error(
                "\(cause.summary) for \(lasted): sending alert \(fire.repeatNumber) via \(names)",
                metadata: metadata
            )
        }
    }

    private func handleResolve(_ resolve: OutageMonitor.Resolve) {
        let sentForOutage: Int = locked {
            defer {
                current.alertsSent = 0
                current.alertsDue = 0
            }
            if current.alertsSent > 0 { current.resolvedSent += 1 }
            return current.alertsSent
        }
        let lasted = HumanDuration.format(resolve.duration)
        guard sentForOutage > 0 else {
            logger.notice("Redis reachable again after \(lasted); this node sent no alert for the outage")
            return
        }
        logger.notice("Redis reachable again after \(lasted): sending the resolved notice")
        let event = AlertEvent.outageResolved(
            source: source,
            startedAt: resolve.startedAt,
            endedAt: resolve.endedAt,
            duration: resolve.duration,
            cause: locked { firedCause }
        )
        submit(event) { _ in }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}
