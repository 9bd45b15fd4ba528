import Foundation
public import LocalProtocol
import Logging
import NamedThreads
public import SocketIOCodec
import Synchronization

/// Injected ack ids and how they settled.
public struct AckCounts: Sendable, Hashable {
    public var injected = 0
    public var delivered = 0
    public var timedOut = 0
    public var disconnected = 0
    /// Node reports that settled nothing (unknown id, repeated or late).
    public var ignoredReports = 0
    /// Sockets whose ack is still awaited.
    public var pending = 0
}

/// Decides which deliveries get an ack id, keeps the ``AckTable``, and turns
/// its outcomes into ``DeliveryRecord``s written to Redis (published on
/// `<prefix>:acks:<message id>` and appended to the list of that name, which
/// expires after the retention time). Time-outs are checked on a thread of
/// its own every `tick`.
final class DeliveryTracker: @unchecked Sendable {
    // @unchecked: the table and counters are behind Mutexes; the thread is
    // started once and told to stop through an atomic.
    struct Settings: Sendable {
        var policy: AckPolicy
        /// The longest wait for an ack; publishers may ask for less.
        var timeout: Duration
        var retention: Duration
        var nodeId: String
        var keys: RegistryKeys
        var tick: Duration = .milliseconds(20)
    }

    let settings: Settings
    private let logger: Logger
    private let table = Mutex(AckTable())
    private let counters = Mutex(AckCounts())
    private let write: @Sendable ([[[UInt8]]]) -> Void
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let origin = ContinuousClock.now
    /// The time-out thread's sign of progress for the systemd watchdog.
    let heartbeat = Heartbeat(name: "busd-acks")

    /// `write` queues Redis commands (argument lists) in order.
    init(settings: Settings, logger: Logger, write: @escaping @Sendable ([[[UInt8]]]) -> Void) {
        self.settings = settings
        self.logger = logger
        self.write = write
    }

    func start() {
        guard settings.policy != .none else { return }
        started.store(true, ordering: .releasing)
        startThread(named: "busd-acks", heartbeat: heartbeat) { [self] in
            while !stopping.load(ordering: .acquiring) {
                heartbeat.beat()
                Thread.sleep(forTimeInterval: settings.tick.seconds)
                let outcomes = table.withLock { $0.expire(at: now) }
                if !outcomes.isEmpty { publish(outcomes) }
            }
            finished.signal()
        }
    }

    /// Returns once the thread has ended (within a tick): it writes through
    /// the member's mirror, and must not outlive the member.
    func stop() {
        stopping.store(true, ordering: .releasing)
        if started.load(ordering: .acquiring) {
            join(finished, thread: "busd-acks", patience: .seconds(1), logger: logger)
        }
    }

    var counts: AckCounts {
        var counts = counters.withLock { $0 }
        counts.pending = table.withLock { $0.pendingSockets }
        return counts
    }

    /// Whether a broadcast with this request gets an ack id under the policy.
    func wantsAck(_ request: DeliveryRequest?) -> Bool {
        switch settings.policy {
        case .none: return false
        case .requested: return request?.wantsAck == true
        case .all: return request?.wantsAck != false
        }
    }

    func timeoutMilliseconds(for request: DeliveryRequest?) -> UInt64 {
        let limit = UInt64(max(1, settings.timeout.milliseconds))
        return min(request?.timeoutMilliseconds ?? limit, limit)
    }

    func nextId() -> UInt64 { table.withLock { $0.nextId() } }

    /// The node was handed `ackId` for these sockets.
    func dispatched(ackId: UInt64, messageId: String, namespace: String, sockets: [String], timeoutMilliseconds: UInt64) {
        let time = now
        table.withLock {
            $0.register(
                ackId: ackId, messageId: messageId, namespace: namespace, sockets: sockets,
                timeoutMilliseconds: timeoutMilliseconds, at: time)
        }
        counters.withLock { $0.injected += 1 }
        let record = DeliveryRecord.dispatched(
            .init(
                messageId: messageId, node: settings.nodeId, namespace: namespace, ackId: ackId, sockets: sockets,
                timeoutMilliseconds: timeoutMilliseconds, time: time.unixMilliseconds))
        write(commands(for: record))
    }

    /// An ACKED from the node. `arguments` must already be a JSON array.
    func report(ackId: UInt64, socketId: String, status: AckStatus, arguments: [JSValue]) {
        let time = now
        let outcome = table.withLock { $0.report(ackId: ackId, socketId: socketId, status: status, arguments: arguments, at: time) }
        guard let outcome else {
            counters.withLock { $0.ignoredReports += 1 }
            return
        }
        publish([outcome])
    }

    func socketGone(_ socketId: String) {
        guard settings.policy != .none else { return }
        let outcomes = table.withLock { $0.socketGone(socketId, at: now) }
        if !outcomes.isEmpty { publish(outcomes) }
    }

    private func publish(_ outcomes: [AckTable.Outcome]) {
        var batch: [[[UInt8]]] = []
        counters.withLock { counts in
            for outcome in outcomes {
                switch outcome.status {
                case .delivered:
                    counts.delivered += 1
                    LatencyHistograms.shared.ack.observe(
                        seconds: Double(outcome.settledAt - outcome.dispatchedAt) / 1000)
                case .timeout: counts.timedOut += 1
                case .disconnected: counts.disconnected += 1
                }
            }
        }
        for outcome in outcomes {
            batch.append(contentsOf: commands(for: .confirmation(.init(outcome: outcome, node: settings.nodeId))))
        }
        write(batch)
    }

    private func commands(for record: DeliveryRecord) -> [[[UInt8]]] {
        let key = Array(settings.keys.acks(record.messageId).utf8)
        let json = Array(record.json.utf8)
        return [
            [Array("RPUSH".utf8), key, json],
            [Array("PEXPIRE".utf8), key, Array("\(settings.retention.milliseconds)".utf8)],
            [Array("PUBLISH".utf8), key, json],
        ]
    }

    private var now: AckTable.Time {
        let elapsed = ContinuousClock.now - origin
        return AckTable.Time(monotonicMilliseconds: UInt64(max(0, elapsed.milliseconds)), unixMilliseconds: unixMilliseconds())
    }
}
