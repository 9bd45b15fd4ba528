import ClusterRequests
import Foundation
import Hiredis
import Logging
import NamedThreads
import Synchronization

/// `PUBSUB NUMSUB <key>-request#<nsp>#` for the node's cluster requests (on
/// a Redis Cluster summed over its nodes, as a stock node's adapter does), on
/// a connection and thread of its own, so that counting never waits behind
/// the registry's writes. A Redis error reply or a lost connection is a
/// failure, never a count of 0.
final class ServerCounter: @unchecked Sendable {
    // @unchecked: `connection` belongs to the counter's thread; the queue is behind `state`.
    private struct State {
        var queue: [(request: UInt32, channel: String, sharded: Bool)] = []
        var stopping = false
        var started = false
        /// The sentinels switched the master: count on the new one.
        var reconnectRequested = false
    }

    private let redis: RedisConfiguration
    private let timeout: Duration
    private let logger: Logger
    private let done: @Sendable (UInt32, Result<Int, ServerCountError>) -> Void
    private let state = Mutex(State())
    private let wake = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private var connection: RedisClient?
    /// The counter's sign of progress for the systemd watchdog.
    let heartbeat = Heartbeat(name: "busd-numsub")

    init(
        redis: RedisConfiguration,
        timeout: Duration,
        logger: Logger,
        done: @escaping @Sendable (UInt32, Result<Int, ServerCountError>) -> Void
    ) {
        self.redis = redis
        self.timeout = timeout
        self.logger = logger
        self.done = done
    }

    func start() {
        state.withLock { $0.started = true }
        startThread(named: "busd-numsub", heartbeat: heartbeat) { [self] in
            run()
            finished.signal()
        }
    }

    /// The next count asks the sentinels for the master again.
    func reconnectNow() {
        state.withLock { $0.reconnectRequested = true }
    }

    func stop() {
        let started = state.withLock { state in
            state.stopping = true
            return state.started
        }
        wake.lock()
        wake.signal()
        wake.unlock()
        if started { join(finished, thread: "busd-numsub", patience: .seconds(3), logger: logger) }
    }

    /// Counts the subscribers of `channel` for the node's `request`
    /// (`sharded`: its SSUBSCRIBErs, with PUBSUB SHARDNUMSUB).
    func count(request: UInt32, channel: String, sharded: Bool = false) {
        state.withLock { $0.queue.append((request, channel, sharded)) }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    private func run() {
        while true {
            // Every turn, the idle wake-up (at most 1 s) included.
            heartbeat.beat()
            let (next, stopping) = state.withLock { state -> ((UInt32, String, Bool)?, Bool) in
                (state.queue.isEmpty ? nil : state.queue.removeFirst(), state.stopping)
            }
            if stopping { break }
            guard let (request, channel, sharded) = next else {
                wake.lock()
                if state.withLock({ $0.queue.isEmpty && !$0.stopping }) {
                    _ = wake.wait(until: Date(timeIntervalSinceNow: 1))
                }
                wake.unlock()
                continue
            }
            // A connect (through the sentinels, if any) and a command, each bounded by the time-out.
            heartbeat.beat(quietFor: timeout * 4 + .seconds(1))
            done(request, numsub(channel, sharded: sharded))
        }
        connection?.close()
    }

    private func numsub(_ channel: String, sharded: Bool) -> Result<Int, ServerCountError> {
        let command = sharded ? "PUBSUB SHARDNUMSUB" : "PUBSUB NUMSUB"
        do {
            if state.withLock({ state in
                defer { state.reconnectRequested = false }; return state.reconnectRequested
            }) {
                connection?.close()
                connection = nil
            }
            if connection == nil { connection = try RedisClient.connect(redis, timeout: timeout, logger: logger) }
            guard let connection else { return .failure(ServerCountError("no connection to Redis")) }
            let counted =
                sharded
                ? try connection.shardSubscriberCount(channel)
                : try connection.subscriberCounts([channel])[channel]
            guard let n = counted else {
                return .failure(ServerCountError("\(command) did not name \(channel)"))
            }
            return .success(n)
        } catch {
            // A reply error keeps the connection in step; anything else ends it.
            if error.code != .reply {
                connection?.close()
                connection = nil
            }
            logger.debug("\(command) failed: \(error)", metadata: ["channel": "\(channel)"])
            return .failure(ServerCountError("\(command) failed: \(error)"))
        }
    }
}
