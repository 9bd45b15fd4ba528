import Foundation
import Hiredis
import Logging
import NamedThreads
import Synchronization

/// Keeps the cluster copy of this node's registry in Redis, on its own
/// thread and its own connection, so the threads that serve the node never
/// wait for Redis.
///
/// Changes are queued and written in pipelined batches. The liveness key is
/// refreshed every third of its TTL with `SET … GET`: a missing old value
/// means Redis lost its data (or the key expired), and the whole local state
/// is written again. After every reconnect the state is rewritten too. Every
/// `cleanupInterval` the mirror looks for registered nodes whose liveness
/// expired and removes their entries (an atomic server-side script).
final class RegistryMirror: @unchecked Sendable {
    // @unchecked: all mutable state is either behind `state` (a Mutex) or
    // owned by the mirror's thread (`connection`).
    struct Settings: Sendable {
        var livenessTTL: Duration = .seconds(15)
        var batchSize = 1000
        var cleanupInterval: Duration = .seconds(5)
        var connectTimeout: Duration = .seconds(2)
        var backoff = RetryBackoff()
        /// Bound of the outbound buffer (commands) and what happens past it.
        var outboundLimit = 100_000
        var outboundOverflow = OutboundOverflowPolicy.dropOldest
    }

    private struct State {
        var pending: [SocketRegistry.RegistryChange] = []
        /// Commands to send, oldest first: the node's broadcasts (PUBLISH)
        /// and delivery records.
        var outbound: OutboundQueue
        var published = 0
        var replayed = 0
        var stopping = false
        /// Someone saw Redis fail (the subscriber): check the connection now.
        var checkRequested = false
        /// The node record changed: write it now, not at the next refresh.
        var recordChanged = false
        var removeEntriesOnStop = false
        /// Graceful shutdown: flush everything, leave the cluster, end.
        var draining = false
        var left = false
        var connected = false
        /// A connection was ever made: before that nothing was written to
        /// Redis, so a drain has nothing to remove.
        var everConnected = false
        /// The thread runs (busd may be told to stop before it starts it).
        var started = false
        /// Connected, registry rewritten and the backlog flushed.
        var synced = false
        /// The live nodes of the last clean-up round (this one included).
        var liveNodes: [String] = []
        var writes = 0
        var resyncs = 0
        /// The sentinels switched the master: drop the connection now.
        var reconnectRequested = false
    }

    let redis: RedisConfiguration
    /// The configured keys; ``keys`` are these as the connected Redis names
    /// them (a hash-tagged prefix on a cluster).
    let configuredKeys: RegistryKeys
    private(set) var keys: RegistryKeys
    let settings: Settings
    let nodeId: String
    private let logger: Logger
    private let snapshot: @Sendable () -> [(String, String, Int64)]
    /// nil once the member is gone (the thread is ending): nothing is written.
    private let record: @Sendable () -> NodeRecord?
    private let state: Mutex<State>
    /// Called with true once a (re)connection is synced, false when lost.
    private let onReadiness: @Sendable (Bool) -> Void
    /// Called with the cause of each failure of the mirror's connection.
    private let onFailure: @Sendable (RedisFailureCause) -> Void
    private let wake = NSCondition()
    /// Called on a `READONLY` reply with Sentinel (a master demoted under
    /// busd): set before ``start()``.
    var onReadOnlyReplica: (@Sendable () -> Void)?
        private var connection: RedisClient?
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled once the node has left the cluster after a drain.
    private let drained = DispatchSemaphore(value: 0)

    init(
        redis: RedisConfiguration,
        keys: RegistryKeys,
        nodeId: String,
        settings: Settings,
        logger: Logger,
        snapshot: @escaping @Sendable () -> [(String, String, Int64)],
        record: @escaping @Sendable () -> NodeRecord?,
        onReadiness: @escaping @Sendable (Bool) -> Void = { _ in },
        onFailure: @escaping @Sendable (RedisFailureCause) -> Void = { _ in }
    ) {
        self.onFailure = onFailure
        self.state = Mutex(
            State(outbound: OutboundQueue(limit: settings.outboundLimit, policy: settings.outboundOverflow))
        )
        self.onReadiness = onReadiness
        self.redis = redis
        self.configuredKeys = keys
        self.keys = keys
        self.nodeId = nodeId
        self.settings = settings
        self.logger = logger
        self.snapshot = snapshot
        self.record = record
    }

    /// Progress of the mirror's thread, for the systemd watchdog.
    let heartbeat = Heartbeat(name: "busd-mirror")

    func start() {
        state.withLock { $0.started = true }
        startThread(named: "busd-mirror", heartbeat: heartbeat) { [self] in
            run()
            finished.signal()
        }
    }

    func enqueue(_ change: SocketRegistry.RegistryChange) {
        state.withLock { $0.pending.append(change) }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Queues a PUBLISH.
    func enqueuePublish(channel: [UInt8], payload: [UInt8]) {
        enqueueCommands([[Array("PUBLISH".utf8), channel, payload]])
    }

    /// Queues commands (argument lists), sent in order. While Redis is away
    /// at most `outboundLimit` wait; past that the overflow policy drops the
    /// oldest or the new ones (and counts them).
    func enqueueCommands(_ commands: [[[UInt8]]]) {
        state.withLock { $0.outbound.append(contentsOf: commands) }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    var outbound: OutboundFigures {
        state.withLock {
            OutboundFigures(
                published: $0.published,
                dropped: $0.outbound.dropped,
                replayed: $0.replayed,
                waiting: $0.outbound.count,
                limit: $0.outbound.limit
            )
        }
    }

    var isConnected: Bool { state.withLock { $0.connected } }
    /// Connected, with the registry rewritten and the backlog flushed.
    var isSynced: Bool { state.withLock { $0.synced } }
    /// The node ids seen alive at the last clean-up round: what this busd
    /// knows of the cluster when Redis goes away.
    var liveNodes: [String] { state.withLock { $0.liveNodes } }
    var pendingCount: Int { state.withLock { $0.pending.count } }
    var resyncCount: Int { state.withLock { $0.resyncs } }

    /// Asks the thread to PING its connection at once: an idle connection
    /// would otherwise notice a restarted Redis only at its next write, and
    /// the registry must be rewritten as soon as Redis is back.
    func checkConnection() {
        state.withLock { $0.checkRequested = true }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Drops the connection and connects again at once (to the master the
    /// sentinels name now): the registry is rewritten and the buffer
    /// published there, as after an outage.
    func reconnectNow() {
        state.withLock { $0.reconnectRequested = true }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Writes the node record (the liveness key) now rather than at the next refresh.
    func refreshRecord() {
        state.withLock { $0.recordChanged = true }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Graceful shutdown: writes every queued change and command (retrying
    /// through an outage like any other time), then removes this node's
    /// entries and ends the thread. Returns false when that did not happen
    /// within `timeout`; ``stop(removeEntries:timeout:)`` then ends it.
    func drain(timeout: Duration) -> Bool {
        // Never started: nothing was written, nothing is left to write.
        guard
            state.withLock({
                $0.draining = true; return $0.started
            })
        else { return true }
        wake.lock()
        wake.signal()
        wake.unlock()
        guard drained.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds))) == .success else { return false }
        return state.withLock { $0.left }
    }

    /// Stops the thread; with `removeEntries` it first deletes this node's
    /// entries and liveness key (a graceful leave). Returns once the thread
    /// has ended: each of its Redis calls is bounded by the connection's
    /// time-out, so that comes; a warning is logged every `patience` before.
    func stop(removeEntries: Bool, patience: Duration = .seconds(5)) {
        let started = state.withLock {
            $0.stopping = true
            $0.removeEntriesOnStop = removeEntries
            return $0.started
        }
        wake.lock()
        wake.signal()
        wake.unlock()
        guard started else { return }
        join(finished, thread: "busd-mirror", patience: patience, logger: logger)
    }

    // MARK: Thread body

    private func run() {
        var backoff = settings.backoff
        var needsResync = true
        /// Commands that waited for this connection (nil once flushed).
        var backlog: Int?
        var failures = 0
        /// What the last failure was, so a change of cause is logged at once.
        var lastCause: RedisFailureCause?
        var nextRefresh = ContinuousClock.now
        var nextCleanup = ContinuousClock.now
        while true {
            // A turn is a few Redis round trips, each bounded by redis.timeout.
            heartbeat.beat(quietFor: settings.connectTimeout * 4)
            let (stopping, removeOnStop) = state.withLock { ($0.stopping, $0.removeEntriesOnStop) }
            if stopping {
                if removeOnStop { try? leaveCluster() }
                connection?.close()
                return
            }
            if state.withLock({ $0.draining && !$0.everConnected && $0.outbound.isEmpty }) {
                // Redis was never reached: nothing of this node is there to
                // remove, and nothing waits to be sent. Done, without waiting
                // out the drain deadline.
                logger.notice("drain: Redis was never reached; nothing to write or remove")
                state.withLock { $0.left = true }
                drained.signal()
                return
            }
            do {
                if state.withLock({ state in
                    defer { state.reconnectRequested = false }; return state.reconnectRequested
                }), connection != nil {
                    throw MasterSwitched()
                }
                if connection == nil {
                    let client = try RedisClient.connect(redis, timeout: settings.connectTimeout, logger: logger)
                    connection = client
                    keys = configuredKeys.on(client)
                    backlog = state.withLock {
                        $0.connected = true
                        $0.everConnected = true
                        return $0.outbound.count
                    }
                    needsResync = true
                    // Once per outage: a connection that fails again at once is not news.
                    logger.log(
                        level: failures == 0 ? .info : .debug,
                        "registry mirror connected",
                        metadata: ["redis": "\(redis)"]
                    )
                }
                if needsResync {
                    // Queued changes are covered by the full rewrite.
                    state.withLock { $0.pending.removeAll() }
                    try rewriteAll()
                    needsResync = false
                    nextRefresh = ContinuousClock.now + settings.livenessTTL / 3
                }
                if state.withLock({ state in
                    defer { state.checkRequested = false }; return state.checkRequested
                }) {
                    try connection?.ping(near: keys.nodes)
                }
                try writePending()
                try writePublishes()
                if state.withLock({ $0.draining && $0.pending.isEmpty && $0.outbound.isEmpty }) {
                    try leaveCluster()
                    state.withLock { $0.left = true }
                    connection?.close()
                    connection = nil
                    drained.signal()
                    return
                }
                if let waited = backlog {
                    backlog = nil
                    backoff.reset()
                    failures = 0
                    lastCause = nil
                    state.withLock {
                        $0.synced = true
                        $0.replayed += waited
                    }
                    onReadiness(true)
                }
                if state.withLock({ state in
                    defer { state.recordChanged = false }; return state.recordChanged
                }) {
                    nextRefresh = ContinuousClock.now
                }
                if ContinuousClock.now >= nextRefresh {
                    if try !refreshLiveness() {
                        logger.warning("liveness key was gone (Redis lost its data?): rewriting this node's registry")
                        needsResync = true
                        continue
                    }
                    nextRefresh = ContinuousClock.now + settings.livenessTTL / 3
                }
                if ContinuousClock.now >= nextCleanup {
                    try removeDeadNodes()
                    nextCleanup = ContinuousClock.now + settings.cleanupInterval
                }
                let wait = min(nextRefresh, nextCleanup) - ContinuousClock.now
                waitForWork(upTo: wait)
            } catch {
                // A fail-over (announced, or a demoted master's READONLY) is
                // followed at once: connect() asks the sentinels again.
                let readOnly = redis.sentinel != nil && (error as? RedisError)?.isReadOnlyReplica == true
                if readOnly { onReadOnlyReplica?() }
                let switched = error is MasterSwitched || readOnly
                let delay = switched ? .zero : backoff.next()
                let cause = switched ? .unreachable : RedisFailureCause(error)
                // The first failure of an outage (or a new cause) is logged;
                // the retries are debug noise. Refused credentials and a full
                // Redis are errors an operator must fix, not a passing outage.
                let level: Logger.Level =
                    failures > 0 && cause == lastCause ? .debug : cause == .unreachable ? .warning : .error
                logger.log(level: level, "\(cause.logText): \(error)", metadata: ["retryIn": "\(delay)"])
                lastCause = cause
                onFailure(cause)
                failures += 1
                connection?.close()
                connection = nil
                backlog = nil
                let wasSynced = state.withLock { state in
                    defer {
                        state.connected = false
                        state.synced = false
                    }
                    return state.synced
                }
                if wasSynced { onReadiness(false) }
                waitForWork(upTo: delay, ignorePending: true)
            }
        }
    }

    private func waitForWork(upTo duration: Duration, ignorePending: Bool = false) {
        guard duration > .zero else { return }
        let deadline = Date(timeIntervalSinceNow: duration.seconds)
        heartbeat.beat()
        wake.lock()
        while !state.withLock({
            $0.stopping || $0.reconnectRequested || ($0.draining && !$0.everConnected && $0.outbound.isEmpty)
                || (!ignorePending
                    && ($0.draining || $0.checkRequested || $0.recordChanged
                        || !($0.pending.isEmpty && $0.outbound.isEmpty)))
        }) {
            // At most a second at a time: an idle mirror still beats.
            if !wake.wait(until: min(deadline, Date(timeIntervalSinceNow: 1))) {
                if Date() >= deadline { break }
                wake.unlock()
                heartbeat.beat()
                wake.lock()
            }
        }
        wake.unlock()
    }

    private func take(max n: Int) -> [SocketRegistry.RegistryChange] {
        state.withLock { state in
            let count = min(n, state.pending.count)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
    }

    /// Writes queued changes: consecutive owns become one HSET + SADD,
    /// consecutive disowns one HDEL + SREM, in order, in one pipeline.
    private func writePending() throws {
        guard let connection else { return }
        while true {
            let batch = take(max: settings.batchSize)
            if batch.isEmpty { return }
            var commands: [[String]] = []
            var owned: [(String, String)] = []
            var disowned: [String] = []
            func flushOwned() {
                guard !owned.isEmpty else { return }
                commands.append(["HSET", keys.owner] + owned.flatMap { [$0.0, $0.1] })
                commands.append(["SADD", keys.sockets(of: nodeId)] + owned.map(\.0))
                owned.removeAll()
            }
            func flushDisowned() {
                guard !disowned.isEmpty else { return }
                commands.append(["HDEL", keys.owner] + disowned)
                commands.append(["SREM", keys.sockets(of: nodeId)] + disowned)
                disowned.removeAll()
            }
            for change in batch {
                switch change {
                case .owned(let id, let namespace, let at):
                    flushDisowned()
                    owned.append((id, RegistryKeys.ownerValue(node: nodeId, connectedAt: at, namespace: namespace)))
                case .disowned(let id):
                    flushOwned()
                    disowned.append(id)
                }
            }
            flushOwned()
            flushDisowned()
            try connection.pipeline(commands)
            state.withLock { $0.writes += batch.count }
        }
    }

    /// Sends queued commands in pipelined batches. A batch is out of the
    /// queue while in flight (so that drops from a full queue never hit it)
    /// and goes back to its front when the connection fails: at least once.
    private func writePublishes() throws {
        guard let connection else { return }
        while true {
            let batch = state.withLock { $0.outbound.popFirst(settings.batchSize) }
            if batch.isEmpty { return }
            do {
                try connection.pipeline(batch)
            } catch {
                state.withLock { $0.outbound.pushFront(batch) }
                throw error
            }
            state.withLock { $0.published += batch.count }
        }
    }

    /// Writes the whole local state: removes entries Redis has for this node
    /// that the node no longer has, then owner entries and the socket set.
    private func rewriteAll() throws {
        guard let connection else { return }
        let sockets = snapshot()
        let local = Set(sockets.map(\.0))
        if case .array(let members) = try connection.command(["SMEMBERS", keys.sockets(of: nodeId)]) {
            let gone = members.compactMap(\.string).filter { !local.contains($0) }
            for chunk in stride(from: 0, to: gone.count, by: settings.batchSize) {
                let ids = Array(gone[chunk..<min(chunk + settings.batchSize, gone.count)])
                try connection.pipeline([["HDEL", keys.owner] + ids, ["SREM", keys.sockets(of: nodeId)] + ids])
            }
        }
        var commands: [[String]] = []
        for chunk in stride(from: 0, to: sockets.count, by: settings.batchSize) {
            let slice = sockets[chunk..<min(chunk + settings.batchSize, sockets.count)]
            commands.append(
                ["HSET", keys.owner]
                    + slice.flatMap {
                        [$0.0, RegistryKeys.ownerValue(node: nodeId, connectedAt: $0.2, namespace: $0.1)]
                    }
            )
            commands.append(["SADD", keys.sockets(of: nodeId)] + slice.map(\.0))
            if commands.count >= 64 {
                try connection.pipeline(commands)
                commands.removeAll()
            }
        }
        if let record = record() {
            commands.append(["SET", keys.node(nodeId), record.json, "PX", "\(settings.livenessTTL.milliseconds)"])
            commands.append(["SADD", keys.nodes, nodeId])
        }
        if !commands.isEmpty { try connection.pipeline(commands) }
        state.withLock { $0.resyncs += 1 }
        logger.info("registry written to Redis", metadata: ["sockets": "\(sockets.count)"])
    }

    /// Returns false when the liveness key had vanished.
    private func refreshLiveness() throws -> Bool {
        guard let connection, let record = record() else { return true }
        // The one periodic command of every busd: its time is the Redis round trip metric.
        let sentAt = ContinuousClock.now
        defer { LatencyHistograms.shared.redisRoundTrip.observe(since: sentAt) }
        let replies = try connection.pipeline([
            ["SET", keys.node(nodeId), record.json, "PX", "\(settings.livenessTTL.milliseconds)", "GET"],
            ["SADD", keys.nodes, nodeId],
        ])
        return replies[0] != .null
    }

    private func removeDeadNodes() throws {
        guard let connection else { return }
        guard case .array(let members) = try connection.command(["SMEMBERS", keys.nodes]) else { return }
        var alive = [nodeId]
        for node in members.compactMap(\.string) where node != nodeId {
            let reply = try connection.command([
                "EVAL", RegistryScripts.removeDeadNode, "1", keys.nodes, keys.prefix, node,
            ])
            if case .integer(let removed) = reply, removed >= 0 {
                logger.notice(
                    "removed the entries of a node whose liveness expired",
                    metadata: ["node": "\(node)", "sockets": "\(removed)"]
                )
            } else {
                alive.append(node)
            }
        }
        state.withLock { $0.liveNodes = alive.sorted() }
    }

    private func leaveCluster() throws {
        if connection == nil {
            let client = try RedisClient.connect(redis, timeout: .seconds(1), logger: logger)
            connection = client
            keys = configuredKeys.on(client)
        }
        guard let connection else { return }
        // Sockets gone since their last write are in Redis's set, not the snapshot.
        var ids = Set(snapshot().map(\.0))
        for member in try connection.command(["SMEMBERS", keys.sockets(of: nodeId)]).array ?? [] {
            if let id = member.string { ids.insert(id) }
        }
        let sorted = ids.sorted()
        for chunk in stride(from: 0, to: ids.count, by: settings.batchSize) {
            try connection.pipeline([
                ["HDEL", keys.owner] + Array(sorted[chunk..<min(chunk + settings.batchSize, ids.count)])
            ])
        }
        try connection.pipeline([["DEL", keys.sockets(of: nodeId), keys.node(nodeId)], ["SREM", keys.nodes, nodeId]])
        logger.info("left the cluster: registry entries removed", metadata: ["sockets": "\(ids.count)"])
    }
}
