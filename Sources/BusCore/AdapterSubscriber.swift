import Foundation
import Hiredis
import Logging
import NamedThreads
import Synchronization

/// The subscriber connection: pattern subscriptions on the adapter channels,
/// on its own thread, with a dead-connection check that works when nothing
/// is published (a PING every `pingInterval`; no answer within
/// `pingTimeout` means the link is dead, and it reconnects and resubscribes).
///
/// Only `PSUBSCRIBE` is used, even for the exact request channel: stock
/// nodes count plain subscribers of `<key>-request#<nsp>#` with
/// `PUBSUB NUMSUB` and wait for each to answer.
final class AdapterSubscriber: @unchecked Sendable {
    // @unchecked: `connection` belongs to the subscriber thread; the rest is
    // behind `state`.
    struct Settings: Sendable {
        var pingInterval: Duration = .seconds(1)
        var pingTimeout: Duration = .seconds(2)
        var connectTimeout: Duration = .seconds(2)
        var backoff = RetryBackoff()
    }

    private struct State {
        var patterns: [String] = []
        var subscribed: Set<String> = []
        var stopping = false
        var connected = false
        var reconnects = 0
    }

    let redis: RedisConfiguration
    let settings: Settings
    private let logger: Logger
    /// The message's bytes are valid only during the call (they lie in the
    /// connection's read buffer): no copy per message.
    private let onMessage: @Sendable (_ channel: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Void
    /// Called after the messages of one read were handled.
    private let onDrained: @Sendable () -> Void
    /// Called with true once the patterns wanted at connection time are all
    /// confirmed, and with false when the connection is lost.
    private let onReadiness: @Sendable (Bool) -> Void
    private let state = Mutex(State())
    private var connection: RedisConnection?
    private let finished = DispatchSemaphore(value: 0)

    init(
        redis: RedisConfiguration,
        settings: Settings,
        logger: Logger,
        onDrained: @escaping @Sendable () -> Void = {},
        onReadiness: @escaping @Sendable (Bool) -> Void = { _ in },
        onMessage: @escaping @Sendable (_ channel: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Void
    ) {
        self.redis = redis
        self.settings = settings
        self.logger = logger
        self.onDrained = onDrained
        self.onReadiness = onReadiness
        self.onMessage = onMessage
    }

    /// Adds patterns; they are subscribed within one poll tick.
    func subscribe(_ patterns: [String]) {
        state.withLock { state in
            for pattern in patterns where !state.patterns.contains(pattern) { state.patterns.append(pattern) }
        }
    }

    var isConnected: Bool { state.withLock { $0.connected } }
    var reconnectCount: Int { state.withLock { $0.reconnects } }
    /// Patterns confirmed by Redis on the current connection.
    var confirmedPatterns: Set<String> { state.withLock { $0.subscribed } }

    func start() {
        startThread(named: "busd-subscriber") { [self] in
            run()
            finished.signal()
        }
    }

    func stop(timeout: Duration = .seconds(3)) {
        state.withLock { $0.stopping = true }
        _ = finished.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds)))
    }

    private func run() {
        var backoff = settings.backoff
        var first = true
        var failures = 0
        while !state.withLock({ $0.stopping }) {
            var delay = Duration.zero
            do {
                let connection = try redis.connect(timeout: settings.connectTimeout)
                self.connection = connection
                state.withLock {
                    $0.connected = true
                    $0.subscribed = []
                    if !first { $0.reconnects += 1 }
                }
                first = false
                backoff.reset()
                failures = 0
                logger.info("subscriber connected", metadata: ["redis": "\(redis)"])
                try readLoop(connection)
            } catch {
                delay = backoff.next()
                // The first failure of an outage is a warning; the retries are debug noise.
                logger.log(
                    level: failures == 0 ? .warning : .debug, "subscriber lost Redis: \(error)",
                    metadata: ["retryIn": "\(delay)"])
                failures += 1
            }
            connection?.close()
            connection = nil
            let wasConnected = state.withLock { state in
                defer {
                    state.connected = false
                    state.subscribed = []
                }
                return state.connected
            }
            if wasConnected { onReadiness(false) }
            if state.withLock({ $0.stopping }) { break }
            sleep(upTo: delay)
        }
    }

    /// Sleeps in short slices so that `stop()` is not held up by a long back-off.
    private func sleep(upTo delay: Duration) {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline && !state.withLock({ $0.stopping }) {
            Thread.sleep(forTimeInterval: min(0.05, (deadline - ContinuousClock.now).seconds))
        }
    }

    private struct DeadLink: Error, CustomStringConvertible {
        var description: String
    }

    private func readLoop(_ connection: RedisConnection) throws {
        let clock = ContinuousClock()
        var lastTraffic = clock.now
        var pingSentAt: ContinuousClock.Instant?
        var requested: Set<String> = []
        // Ready once what was wanted at connection time is confirmed; patterns
        // added later (a new namespace) do not make busd unready meanwhile.
        var required: Set<String>? = Set(state.withLock { $0.patterns })
        while !state.withLock({ $0.stopping }) {
            let wanted = state.withLock { $0.patterns }.filter { !requested.contains($0) }
            if !wanted.isEmpty {
                try connection.append(["PSUBSCRIBE"] + wanted)
                try connection.flush()
                requested.formUnion(wanted)
            }
            var gotTraffic = false
            drain: while true {
                switch try connection.nextBufferedMessage(onMessage) {
                case .message: break
                case .other(let reply): handle(reply)
                case .none: break drain
                }
                gotTraffic = true
            }
            if let wanted = required, state.withLock({ wanted.isSubset(of: $0.subscribed) }) {
                required = nil
                onReadiness(true)
            }
            if gotTraffic {
                lastTraffic = clock.now
                pingSentAt = nil
                onDrained()
            }
            if try connection.waitReadable(timeout: .milliseconds(100)) {
                try connection.readAvailable()
                continue
            }
            if let sent = pingSentAt {
                if clock.now - sent > settings.pingTimeout {
                    throw DeadLink(description: "no answer to PING within \(settings.pingTimeout)")
                }
            } else if clock.now - lastTraffic > settings.pingInterval {
                try connection.append(["PING"])
                try connection.flush()
                pingSentAt = clock.now
            }
        }
    }

    private func handle(_ reply: RedisReply) {
        guard case .array(let parts) = reply, let kind = parts.first?.string else { return }
        switch kind {
        case "psubscribe" where parts.count >= 2:
            if let pattern = parts[1].string { state.withLock { _ = $0.subscribed.insert(pattern) } }
        default:
            break  // pong, other confirmations
        }
    }
}
