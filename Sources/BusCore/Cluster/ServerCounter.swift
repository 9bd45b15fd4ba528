import ClusterRequests
import Foundation
import Hiredis
import Logging
import NamedThreads
import Synchronization

/// `PUBSUB NUMSUB <key>-request#<nsp>#` for the node's cluster requests, on
/// a connection and thread of its own, so that counting never waits behind
/// the registry's writes. A Redis error reply or a lost connection is a
/// failure, never a count of 0.
final class ServerCounter: @unchecked Sendable {
    // @unchecked: `connection` belongs to the counter's thread; the queue is behind `state`.
    private struct State {
        var queue: [(request: UInt32, channel: String)] = []
        var stopping = false
        var started = false
    }

    private let redis: RedisConfiguration
    private let timeout: Duration
    private let logger: Logger
    private let done: @Sendable (UInt32, Result<Int, ServerCountError>) -> Void
    private let state = Mutex(State())
    private let wake = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private var connection: RedisConnection?

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
        startThread(named: "busd-numsub") { [self] in
            run()
            finished.signal()
        }
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

    /// Counts the subscribers of `channel` for the node's `request`.
    func count(request: UInt32, channel: String) {
        state.withLock { $0.queue.append((request, channel)) }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    private func run() {
        while true {
            let (next, stopping) = state.withLock { state -> ((UInt32, String)?, Bool) in
                (state.queue.isEmpty ? nil : state.queue.removeFirst(), state.stopping)
            }
            if stopping { break }
            guard let (request, channel) = next else {
                wake.lock()
                if state.withLock({ $0.queue.isEmpty && !$0.stopping }) {
                    _ = wake.wait(until: Date(timeIntervalSinceNow: 1))
                }
                wake.unlock()
                continue
            }
            done(request, numsub(channel))
        }
        connection?.close()
    }

    private func numsub(_ channel: String) -> Result<Int, ServerCountError> {
        do {
            if connection == nil { connection = try redis.connect(timeout: timeout) }
            guard let connection else { return .failure(ServerCountError("no connection to Redis")) }
            guard let n = try connection.subscriberCounts([channel])[channel] else {
                return .failure(ServerCountError("PUBSUB NUMSUB did not name \(channel)"))
            }
            return .success(n)
        } catch {
            // A reply error keeps the connection in step; anything else ends it.
            if error.code != .reply {
                connection?.close()
                connection = nil
            }
            logger.debug("PUBSUB NUMSUB failed: \(error)", metadata: ["channel": "\(channel)"])
            return .failure(ServerCountError("PUBSUB NUMSUB failed: \(error)"))
        }
    }
}
