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
/// Broadcast channels are pattern subscriptions (`<key>#<nsp>#*`); the
/// request and response channels are plain `SUBSCRIBE`s, as a stock node's:
/// stock nodes count plain subscribers of `<key>-request#<nsp>#` with
/// `PUBSUB NUMSUB` and wait for each to answer, and busd answers.
///
/// Two threads: the reader takes messages off the socket as fast as Redis
/// sends them, into a bounded ``SubscriberBacklog``; the handler routes them,
/// in order. However slow routing gets, Redis's output buffer for busd does
/// not grow (Redis would cut busd at its `client-output-buffer-limit`):
/// what does not fit the backlog is dropped and counted here instead.
final class AdapterSubscriber: @unchecked Sendable {
    // @unchecked: `connection`, `lastFigures` and `pushedBatches` belong to
    // the reader thread, `routerTakes` to the router's; the rest is behind
    // `state`, atomic, or the backlog's.
    struct Settings: Sendable {
        var pingInterval: Duration = .seconds(1)
        var pingTimeout: Duration = .seconds(2)
        var connectTimeout: Duration = .seconds(2)
        var backoff = RetryBackoff()
        /// The backlog's budget, bytes of channel and payload.
        var backlogBytes = 64 << 20
    }

    private struct State {
        var patterns: [String] = []
        var subscribed: Set<String> = []
        /// Plain channels (SUBSCRIBE), and those Redis confirmed.
        var channels: [String] = []
        var subscribedChannels: Set<String> = []
        /// Sharded channels (SSUBSCRIBE, counted by `PUBSUB SHARDNUMSUB`),
        /// those Redis confirmed, and those to SUNSUBSCRIBE.
        var shardChannels: [String] = []
        var subscribedShardChannels: Set<String> = []
        var shardUnsubscribes: [String] = []
        /// Sharded channels SSUBSCRIBE was sent for on the current connection.
        var sentShards: Set<String> = []
        var stopping = false
        var connected = false
        var reconnects = 0
        /// The sentinels switched the master: drop the connection now.
        var reconnectRequested = false
    }

    let redis: RedisConfiguration
    let settings: Settings
    /// Progress of the reader and the router, for the systemd watchdog.
    let readerHeartbeat = Heartbeat(name: "busd-subscriber")
    let routerHeartbeat = Heartbeat(name: "busd-router")
    let logger: Logger
    /// Each batch on the handler thread, in the order Redis sent them (the
    /// handler takes its messages in order); the bytes are valid only
    /// during the call.
    private let onMessages: @Sendable (_ batch: SubscriberBacklog.Batch) -> Void
    /// Asked on the reader thread before a message goes into the backlog.
    private let readFilter: (any SubscriberReadFilter)?
    /// Called after the messages taken from the backlog together (one read
    /// from Redis, or several when the handler fell behind) were handled.
    private let onDrained: @Sendable () -> Void
    /// Called on the reader thread when a new connection finds that Redis
    /// closed the last one while it kept running (see ``SubscriberCut``).
    let onCut: @Sendable (SubscriberCut) -> Void
    /// Called with true once the patterns wanted at connection time are all
    /// confirmed, and with false when the connection is lost.
    private let onReadiness: @Sendable (Bool) -> Void
    private let state = Mutex(State())
    private var connection: RedisConnection?
    /// On a Redis Cluster: the connections to the masters of the shard
    /// channels' slots (reader thread; see ShardLinks.swift).
    var shardLinks: ShardLinks?
    /// The `INFO` figures at the last connection (reader thread).
    var lastFigures: SubscriberCut.ServerFigures?
    /// Whether the last read dropped messages (reader thread).
    var dropping = false
    let backlog: SubscriberBacklog
    /// Cuts the wait for Redis short when sharded channels are to be sent.
    let wake = SubscriberWake()
    /// The current connection's socket while it is subscribed (-1 without):
    /// SSUBSCRIBE of a room channel is written on it at once, from the
    /// joining thread; every write to the socket holds this lock.
    let directWrite = Mutex<Int32>(-1)
    /// Joins waiting for Redis to confirm their room channels' SSUBSCRIBE.
    let shardWaits = ShardSubscriptionWaits()
    private let finished = DispatchSemaphore(value: 0)
    private let handlerFinished = DispatchSemaphore(value: 0)
    /// The takes from the backlog so far (router thread only): the messages
    /// handled during one take were all read from Redis before it
    /// (ClusterMember+ChannelFilter.swift's fence is asked once per take).
    @exclusivity(unchecked) private(set) var routerTakes: UInt64 = 0
    /// Moves of read messages into the backlog, and the batches pushed (reader thread).
    @exclusivity(unchecked) private var reads: UInt64 = 0
    @exclusivity(unchecked) private var pushedBatches: UInt64 = 0
    /// The last batch the router has handled every message of.
    private let routedBatches = Atomic<UInt64>(0)

    init(
        redis: RedisConfiguration,
        settings: Settings,
        logger: Logger,
        onDrained: @escaping @Sendable () -> Void = {},
        onReadiness: @escaping @Sendable (Bool) -> Void = { _ in },
        onCut: @escaping @Sendable (SubscriberCut) -> Void = { _ in },
        readFilter: (any SubscriberReadFilter)? = nil,
        onMessages: @escaping @Sendable (_ batch: SubscriberBacklog.Batch) -> Void
    ) {
        self.redis = redis
        self.settings = settings
        self.logger = logger
        self.onDrained = onDrained
        self.onReadiness = onReadiness
        self.onCut = onCut
        self.readFilter = readFilter
        self.onMessages = onMessages
        backlog = SubscriberBacklog(limit: settings.backlogBytes)
    }

    /// Adds patterns; they are subscribed within one poll tick.
    func subscribe(_ patterns: [String]) {
        state.withLock { state in
            for pattern in patterns where !state.patterns.contains(pattern) { state.patterns.append(pattern) }
        }
    }

    /// Adds plain channels (SUBSCRIBE, counted by `PUBSUB NUMSUB`); they
    /// are subscribed within one poll tick, and again after each reconnect.
    func subscribe(channels: [String]) {
        state.withLock { state in
            for channel in channels where !state.channels.contains(channel) { state.channels.append(channel) }
        }
    }

    /// Adds sharded channels (SSUBSCRIBE), subscribed within one poll tick and
    /// again after each reconnect.
    func subscribe(shardChannels channels: [String]) {
        state.withLock { state in
            for channel in channels where !state.shardChannels.contains(channel) {
                state.shardChannels.append(channel)
                state.shardUnsubscribes.removeAll { $0 == channel }
            }
        }
        sendNow(shardChannels: channels)
        wake.signal()
    }

    /// Drops sharded channels (SUNSUBSCRIBE within one poll tick).
    func unsubscribe(shardChannels channels: [String]) {
        state.withLock { state in
            for channel in channels where state.shardChannels.contains(channel) {
                state.shardChannels.removeAll { $0 == channel }
                state.shardUnsubscribes.append(channel)
            }
        }
        wake.signal()
    }

    /// The sharded channels to SSUBSCRIBE (not `requested` yet) and those to
    /// SUNSUBSCRIBE (taken off the list).
    func shardChannelChanges() -> (wanted: [String], dropped: [String]) {
        state.withLock { state in
            defer { state.shardUnsubscribes = [] }
            let wanted = state.shardChannels.filter { !state.sentShards.contains($0) }
            state.sentShards.formUnion(wanted)
            for channel in state.shardUnsubscribes { state.sentShards.remove(channel) }
            return (wanted, state.shardUnsubscribes)
        }
    }

    /// `channels` are no longer subscribed where they were (their link was
    /// lost, Redis redirected or ended them): they are sent again.
    func forgetShardChannels(_ channels: [String]) {
        guard !channels.isEmpty else { return }
        state.withLock { state in
            for channel in channels {
                state.sentShards.remove(channel)
                state.subscribedShardChannels.remove(channel)
            }
        }
    }

    /// Marks `channels` sent and returns those not sent before on this connection.
    func claimShardChannels(_ channels: [String]) -> [String] {
        state.withLock { state in channels.filter { state.shardChannels.contains($0) && state.sentShards.insert($0).inserted } }
    }

    /// Sharded channels confirmed by Redis on the current connection.
    var confirmedShardChannels: Set<String> { state.withLock { $0.subscribedShardChannels } }

    /// Channels confirmed by Redis on the current connection.
    var confirmedChannels: Set<String> { state.withLock { $0.subscribedChannels } }

    var isConnected: Bool { state.withLock { $0.connected } }
    var reconnectCount: Int { state.withLock { $0.reconnects } }
    /// Patterns confirmed by Redis on the current connection.
    var confirmedPatterns: Set<String> { state.withLock { $0.subscribed } }

    func start() {
        startThread(named: "busd-subscriber", heartbeat: readerHeartbeat) { [self] in
            run()
            finished.signal()
        }
        startThread(named: "busd-router", heartbeat: routerHeartbeat) { [self] in
            // An idle router wakes every second to show it is alive.
            while let batches = backlog.take(idleWake: .seconds(1)) {
                routerHeartbeat.beat()
                if batches.isEmpty { continue }
                routerTakes &+= 1
                for batch in batches {
                    onMessages(batch)
                    routedBatches.store(batch.sequence, ordering: .releasing)
                    if let readAt = batch.firstReadAt { LatencyHistograms.shared.delivery.observe(since: readAt) }
                }
                backlog.recycle(batches)
                onDrained()
            }
            handlerFinished.signal()
        }
    }

    func stop(timeout: Duration = .seconds(3)) {
        state.withLock { $0.stopping = true }
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout.milliseconds))
        _ = finished.wait(timeout: deadline)
        backlog.close()
        _ = handlerFinished.wait(timeout: deadline)
    }

    /// Drops the connection and connects again at once (to the master the
    /// sentinels name now), as after an outage.
    func reconnectNow() {
        state.withLock { $0.reconnectRequested = true }
    }

    private func run() {
        var backoff = settings.backoff
        var first = true
        var failures = 0
        var closedByRedis = false
        while !state.withLock({ $0.stopping }) {
            var delay = Duration.zero
            var reading = false
            do {
                state.withLock { $0.reconnectRequested = false }
                // Connecting, the shard links and the cut check each wait at most their time-outs.
                readerHeartbeat.beat(quietFor: settings.connectTimeout * 4 + .seconds(1))
                // On a cluster any node hears every PUBLISH: the first that answers.
                let connection = try redis.connectAnyNode(timeout: settings.connectTimeout)
                self.connection = connection
                // On a cluster shard channels go to their slots' masters, not here;
                // links kept from the last connection stay subscribed (sent again).
                shardLinks = shardLinks ?? openShardLinks(beside: connection)
                directWrite.withLock { fd in
                    fd = shardLinks == nil ? connection.fileDescriptor : -1
                    state.withLock { $0.sentShards = [] }
                }
                state.withLock {
                    $0.connected = true
                    $0.subscribed = []
                    $0.subscribedChannels = []
                    $0.subscribedShardChannels = []
                    $0.shardUnsubscribes = []
                    if !first { $0.reconnects += 1 }
                }
                first = false
                backoff.reset()
                failures = 0
                logger.info("subscriber connected", metadata: ["redis": "\(redis)"])
                checkForCut(on: connection, lastClosedByRedis: closedByRedis)
                closedByRedis = false
                reading = true
                try readLoop(connection)
            } catch {
                if reading { closedByRedis = Self.isClosedByRedis(error) }
                delay = error is MasterSwitched ? .zero : backoff.next()
                // The first failure of an outage is a warning; the retries are debug noise.
                logger.log(
                    level: failures == 0 ? .warning : .debug,
                    "subscriber lost Redis: \(error)",
                    metadata: ["retryIn": "\(delay)"]
                )
                failures += 1
            }
            directWrite.withLock { $0 = -1 }
            connection?.close()
            connection = nil
            let wasConnected = state.withLock { state in
                defer {
                    state.connected = false
                    state.subscribed = []
                    state.subscribedChannels = []
                    state.subscribedShardChannels = []
                }
                return state.connected
            }
            if wasConnected { onReadiness(false) }
            if state.withLock({ $0.stopping }) { break }
            sleep(upTo: delay)
        }
        shardLinks?.close()
        shardLinks = nil
    }

    /// Sleeps in short slices so that `stop()` is not held up by a long back-off.
    private func sleep(upTo delay: Duration) {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline && !state.withLock({ $0.stopping || $0.reconnectRequested }) {
            readerHeartbeat.beat()
            Thread.sleep(forTimeInterval: min(0.05, (deadline - ContinuousClock.now).seconds))
        }
    }

    private struct DeadLink: Error, CustomStringConvertible {
        var description: String
    }

    private func readLoop(_ connection: RedisConnection) throws {
        let filter = readFilter  // one load, not one per read
        let clock = ContinuousClock()
        var lastTraffic = clock.now
        var pingSentAt: ContinuousClock.Instant?
        var requested: Set<String> = []
        var requestedChannels: Set<String> = []
        // Ready once what was wanted at connection time is confirmed; patterns
        // added later (a new namespace) do not make busd unready meanwhile.
        var required: (patterns: Set<String>, channels: Set<String>, shards: Set<String>)? = state.withLock {
            (Set($0.patterns), Set($0.channels), Set($0.shardChannels))
        }
        while !state.withLock({ $0.stopping }) {
            readerHeartbeat.beat()
            if state.withLock({ $0.reconnectRequested }) {
                try? leaveSubscriptions(connection, filter: filter)
                throw MasterSwitched()
            }
            let (wanted, wantedChannels) = state.withLock { state in
                (
                    state.patterns.filter { !requested.contains($0) },
                    state.channels.filter { !requestedChannels.contains($0) }
                )
            }
            if !wanted.isEmpty {
                try connection.append(["PSUBSCRIBE"] + wanted)
                requested.formUnion(wanted)
            }
            if !wantedChannels.isEmpty {
                try connection.append(["SUBSCRIBE"] + wantedChannels)
                requestedChannels.formUnion(wantedChannels)
            }
            let shardsChanged = try updateShardChannels(connection)
            if !wanted.isEmpty || !wantedChannels.isEmpty || shardsChanged {
                try directWrite.withLock { _ throws(RedisError) in try connection.flush() }
            }
            let gotTraffic = try drain(connection, filter: filter)
            drainShardLinks()
            if let wanted = required,
                state.withLock({
                    wanted.patterns.isSubset(of: $0.subscribed) && wanted.channels.isSubset(of: $0.subscribedChannels)
                        // A room channel dropped meanwhile is no longer awaited.
                        && wanted.shards.intersection($0.shardChannels).isSubset(of: $0.subscribedShardChannels)
                })
            {
                required = nil
                onReadiness(true)
            }
            if gotTraffic {
                lastTraffic = clock.now
                pingSentAt = nil
            }
            if shardLinks != nil {
                if try waitReadableWithShardLinks(connection, timeout: .milliseconds(100)) { continue }
                pingShardLinks()
            } else if try wake.waitReadable(connection, timeout: .milliseconds(100)) {
                try connection.readAvailable()
                continue
            }
            if let sent = pingSentAt {
                if clock.now - sent > settings.pingTimeout {
                    throw DeadLink(description: "no answer to PING within \(settings.pingTimeout)")
                }
            } else if clock.now - lastTraffic > settings.pingInterval {
                try connection.append(["PING"])
                try directWrite.withLock { _ throws(RedisError) in try connection.flush() }
                pingSentAt = clock.now
            }
        }
    }

    /// Before leaving a master the sentinels replaced: unsubscribes and
    /// routes what Redis sent until it confirmed, so that nothing Redis
    /// counted as handed to busd is dropped with the connection.
    private func leaveSubscriptions(_ connection: RedisConnection, filter: (any SubscriberReadFilter)?) throws {
        try connection.append(["PUNSUBSCRIBE"])
        try connection.append(["UNSUBSCRIBE"])
        if state.withLock({ !$0.subscribedShardChannels.isEmpty }) { try connection.append(["SUNSUBSCRIBE"]) }
        try connection.flush()
        let deadline = ContinuousClock.now + settings.pingTimeout
        while ContinuousClock.now < deadline {
            // Through the filter: a request read here holds its drops on the next connection too.
            _ = try drain(connection, filter: filter)
            if state.withLock({
                $0.subscribed.isEmpty && $0.subscribedChannels.isEmpty && $0.subscribedShardChannels.isEmpty
            }) { return }
            if try connection.waitReadable(timeout: .milliseconds(50)) { try connection.readAvailable() }
        }
    }

    /// Moves every complete message read so far into the backlog, as one
    /// batch (what does not fit is dropped), and handles the other replies.
    /// True when there was anything.
    func drain(_ connection: RedisConnection, filter: (any SubscriberReadFilter)? = nil) throws -> Bool {
        var gotTraffic = false
        var (batch, room) = backlog.startBatch()
        var dropped = 0
        reads &+= 1
        let position = ReadPosition(
            read: reads,
            batch: pushedBatches &+ 1,
            routed: routedBatches.load(ordering: .acquiring)
        )
        // Also on a throw: what was taken off the read buffer is routed.
        defer {
            if !batch.isEmpty {
                pushedBatches &+= 1
                batch.sequence = pushedBatches
            }
            backlog.push(batch)
            noteDrops(dropped)
        }
        while true {
            let next = try connection.nextBufferedMessage { channel, payload in
                if let filter, filter.dropsOnRead(channel, at: position) { return }
                if batch.byteCount + channel.count + payload.count <= room {
                    batch.append(channel: channel, payload: payload)
                } else {
                    dropped += 1
                }
            }
            switch next {
            case .message: break
            case .other(let reply): handle(reply)
            case .none: return gotTraffic
            }
            gotTraffic = true
        }
    }

    func handle(_ reply: RedisReply) {
        guard case .array(let parts) = reply, let kind = parts.first?.string else { return }
        switch kind {
        case "psubscribe" where parts.count >= 2:
            if let pattern = parts[1].string { state.withLock { _ = $0.subscribed.insert(pattern) } }
        case "subscribe" where parts.count >= 2:
            if let channel = parts[1].string { state.withLock { _ = $0.subscribedChannels.insert(channel) } }
        case "punsubscribe" where parts.count >= 2:
            if let pattern = parts[1].string { state.withLock { _ = $0.subscribed.remove(pattern) } }
        case "unsubscribe" where parts.count >= 2:
            if let channel = parts[1].string { state.withLock { _ = $0.subscribedChannels.remove(channel) } }
        case "ssubscribe" where parts.count >= 2:
            if let channel = parts[1].string {
                state.withLock { _ = $0.subscribedShardChannels.insert(channel) }
                shardWaits.confirmed(channel)
            }
        case "sunsubscribe" where parts.count >= 2:
            guard let channel = parts[1].string else { return }
            let wanted = state.withLock { state in
                state.subscribedShardChannels.remove(channel)
                return state.shardChannels.contains(channel) && !state.shardUnsubscribes.contains(channel)
            }
            // Not asked for: a cluster moved the slot away or demoted the node.
            if wanted, let shardLinks {
                shardLinks.unsubscribedByRedis(channel)
                forgetShardChannels([channel])
            }
        default:
            break  // pong, other confirmations
        }
    }
}
