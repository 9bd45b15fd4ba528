import Durations
import Foundation
public import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Sends alerts through every configured channel, each on its own thread
/// with its own queue: a channel stuck in a time-out delays neither the
/// other channels nor the caller.
public final class AlertDispatcher: Sendable {
    private let workers: [ChannelWorker]

    /// Starts one thread per channel. `queueLimit` bounds each channel's
    /// backlog (the oldest event goes when it is full).
    public init(channels: [any AlertChannel], logger: Logger, queueLimit: Int = 16) {
        workers = channels.map { ChannelWorker(channel: $0, logger: logger, queueLimit: queueLimit) }
        for worker in workers { worker.start() }
    }

    /// The channels `settings` configures: SMTP first, then the webhooks in order.
    public convenience init(settings: AlertSettings, hostName: String = AlertDispatcher.localHostName, logger: Logger) {
        self.init(channels: Self.channels(for: settings, hostName: hostName), logger: logger)
    }

    public static func channels(for settings: AlertSettings, hostName: String) -> [any AlertChannel] {
        var channels: [any AlertChannel] = []
        if let smtp = settings.smtp { channels.append(SMTPChannel(settings: smtp, hostName: hostName)) }
        for (index, webhook) in settings.webhooks.enumerated() {
            channels.append(WebhookChannel(settings: webhook, index: index + 1))
        }
        return channels
    }

    public var channels: [any AlertChannel] { workers.map(\.channel) }

    /// Queues `event` on every channel and returns at once.
    public func submit(_ event: AlertEvent) {
        for worker in workers { worker.enqueue(.init(event: event, done: nil)) }
    }

    /// Sends `event` through every channel and waits for each outcome, or
    /// until `timeout` (by default the slowest channel's worst case plus a
    /// second); a channel still busy by then is reported as failed.
    /// Results come in channel order. For `busctl alert-test`.
    public func sendAndWait(_ event: AlertEvent, timeout: Duration? = nil) -> [ChannelResult] {
        let collector = ResultCollector()
        for (index, worker) in workers.enumerated() {
            worker.enqueue(.init(event: event) { collector.put(index, $0) })
        }
        let limit = timeout ?? longestDelivery + .seconds(1)
        let results = collector.wait(for: workers.count, until: ContinuousClock.now + limit)
        return workers.enumerated().map { index, worker in
            results[index]
                ?? ChannelResult(
                    channel: worker.channel.name,
                    target: worker.channel.target,
                    error: "no outcome within \(HumanDuration.format(limit)) (still trying)",
                    attempts: 0,
                    elapsed: limit
                )
        }
    }

    /// The longest a delivery can take on the slowest channel, retries included.
    public var longestDelivery: Duration {
        workers.map(\.channel.delivery.worstCase).max() ?? .zero
    }

    /// Per channel, in channel order: sent, failed, attempts, dropped.
    public var counters: [ChannelCounters] { workers.map(\.snapshot) }

    /// Takes no more events, lets what is queued go out for up to `timeout`,
    /// and returns whether every channel thread ended by then. A thread
    /// inside a transfer ends with the transfer's own time-out.
    @discardableResult
    public func stop(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        for worker in workers { worker.stop(deadline: deadline) }
        return workers.allSatisfy { $0.waitUntilFinished(deadline: deadline) }
    }

    /// `gethostname`, for the `host` label and Message-IDs.
    public static var localHostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Outcomes of one `sendAndWait`, filled in by the channel threads.
private final class ResultCollector: @unchecked Sendable {
    // @unchecked: `results` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var results: [Int: ChannelResult] = [:]

    func put(_ index: Int, _ result: ChannelResult) {
        condition.lock()
        results[index] = result
        condition.broadcast()
        condition.unlock()
    }

    func wait(for count: Int, until deadline: ContinuousClock.Instant) -> [Int: ChannelResult] {
        condition.lock()
        defer { condition.unlock() }
        while results.count < count && ContinuousClock.now < deadline {
            _ = condition.wait(until: Date() + (deadline - ContinuousClock.now).seconds)
        }
        return results
    }
}
