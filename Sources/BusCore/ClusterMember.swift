import ClusterRequests
import Foundation
import Hiredis
public import LocalProtocol
public import Logging
public import SocketIOCodec
import Synchronization

/// busd's membership of the Socket.IO cluster: the registry of its node's
/// sockets, the Redis mirror of it, and the adapter subscriptions.
///
/// The node's events (connect, disconnect, join, leave) update the registry
/// at once and are mirrored to Redis in the background; Redis being slow or
/// away never blocks them. Messages from the adapter channels are turned into
/// ``NodeCommand``s for the node's own sockets.
public final class ClusterMember: @unchecked Sendable {
    // @unchecked: the registry is behind a Mutex, the counters are atomics,
    // and `decoder` and `delivery` are used only on the subscriber's router thread.
    public struct Configuration: Sendable {
        public var redis: RedisConfiguration
        /// The adapter's channel prefix (`key` option), "socket.io" by default.
        public var adapterKey: String = AdapterChannel.defaultKey
        /// The stock nodes' adapter: classic pub/sub or sharded (Sharded/).
        public var adapterFlavor: AdapterFlavor = .classic
        public var registryKeys = RegistryKeys()
        public var nodeId: String
        /// Namespaces to subscribe from the start; more are added as sockets connect.
        public var namespaces: [String] = ["/"]
        public var livenessTTL: Duration = .seconds(15)
        public var cleanupInterval: Duration = .seconds(5)
        public var pingInterval: Duration = .seconds(1)
        public var pingTimeout: Duration = .seconds(2)
        /// Connect and command time-out of both Redis connections.
        public var redisTimeout: Duration = .seconds(2)
        /// Delays between reconnection attempts.
        public var reconnectBackoff = RetryBackoff()
        /// Bound of the buffer of commands for Redis (the node's broadcasts,
        /// delivery records) that waits out an outage, and its overflow policy.
        public var outboundLimit = 100_000
        public var outboundOverflow = OutboundOverflowPolicy.dropOldest
        /// Budget of the messages read from Redis and not routed yet (bytes);
        /// what does not fit is dropped and counted.
        public var subscriberBacklogBytes = 64 << 20
        public var host: String = ProcessInfo.processInfo.hostName
        public var version: String = SocketBusVersion.string
        /// Which broadcasts get an injected ack id.
        public var ackPolicy: AckPolicy = .requested
        /// How long an injected ack id waits for the client (a publisher may ask for less).
        public var ackTimeout: Duration = .seconds(30)
        /// How long confirmations stay in Redis.
        public var confirmationRetention: Duration = .seconds(3600)
        /// How long busd waits for its node's ANSWER or DELIVERED before it
        /// answers the cluster for the node (below the adapter's 5 s).
        public var nodeAnswerTimeout: Duration = .seconds(2)

        public init(redis: RedisConfiguration, nodeId: String) {
            self.redis = redis
            self.nodeId = nodeId
        }
    }

    public let configuration: Configuration
    /// The uid this busd publishes under (6 characters, like the adapter's).
    public let uid: String
    public let startedAt = unixMilliseconds()
    let logger: Logger
    let registry = GuardedRegistry()
    /// Counters bumped on the router thread, read from anywhere.
    let counters = StatisticsCounters()
    private let onCommand: @Sendable (NodeCommand) -> Void
    /// Sends the node's queued commands (the router thread's batch end).
    let flushCommands: @Sendable () -> Void
    let clusterCounters = ClusterCounters()
    let clusterChannels: ClusterChannels
    /// Set with the sharded adapter (Sharded/ClusterMember+Sharded.swift).
    let sharded: ShardedMembership?
    /// The adapter's request protocol (see ClusterMember+Requests.swift).
    var cluster: ClusterRequestEngine!
    /// Delivery records of a v2 node's broadcasts, waiting for DELIVERED.
    let awaitingDelivered = AwaitingDelivered()
    var serverCounter: ServerCounter!
    let availability: Mutex<AvailabilityState>
    /// Set by `stop()`: the connections closing then is not an outage.
    let stopping = Atomic<Bool>(false)
    let onAvailability: @Sendable (_ reachable: Bool) -> Void
    let onDataLoss: @Sendable (SubscriberCut) -> Void
    private let onFailure: @Sendable (RedisFailureCause) -> Void
    /// The connected node's process id (its last HELLO).
    private let nodePid = Mutex<Int?>(nil)
    var mirror: RegistryMirror!
    var subscriber: AdapterSubscriber!
    var tracker: DeliveryTracker!
    /// Follows `+switch-master` with a `redis+sentinel://` URL (ClusterMember+Sentinel.swift).
    var sentinelWatcher: SentinelWatcher?
    // The router thread's own state below is @exclusivity(unchecked): one
    // thread uses it, and each checked access costs ~50 instructions per message.
    /// Scratch buffer for ack id injection (router thread).
    @exclusivity(unchecked) private var injected: [UInt8] = []
    /// The last channel seen and what it parsed to (router thread).
    @exclusivity(unchecked) private var lastChannelBytes: [UInt8] = []
    @exclusivity(unchecked) private var lastChannel: AdapterChannel?
    /// The last broadcast channel's check (ClusterMember+ChannelFilter.swift):
    /// its answer and the registry generation it saw.
    @exclusivity(unchecked) var lastChannelCheck: ChannelCheck?
    /// The subscriber's take the fence was last asked in, and its answer
    /// (ClusterMember+ChannelFilter.swift).
    @exclusivity(unchecked) var fenceTake: UInt64 = .max
    @exclusivity(unchecked) var fenceSettled = false
    /// Set by the node link: asks it whether its reads are all applied.
    let linkReadFence = LinkReadFence()
    /// Namespaces the node announced (NAMESPACE frames) or connected sockets in.
    let servedNamespaces = ServedNamespaces()
    /// Rooms an APPLY told the node to join, kept from the drop by the
    /// registry until the node has had time to report them.
    let pendingRoomJoins = PendingRoomJoins()
    /// The drop by channel name's rule (the node's session, the registry,
    /// the namespaces announced), shared with the subscriber's reader.
    let channelRule: ChannelRule
    @exclusivity(unchecked) private var lastSelection = CachedSelection()
    /// The payload being decoded, copied out of the read buffer (capacity reused).
    @exclusivity(unchecked) private var payload: [UInt8] = []
    private let decoder = BroadcastDecoder()
    /// Reused for every broadcast, so its buffers keep their capacity.
    @exclusivity(unchecked) private var delivery = BroadcastDelivery()
    /// The node link that takes routed broadcasts straight from the router
    /// (ClusterMember+DeliveryLink.swift); without one they go to `onCommand`.
    let deliveryLink = Mutex<NodeLinkServer?>(nil)
    /// The last broadcast's rooms in the local protocol's form (router thread).
    @exclusivity(unchecked) var lastLocalRooms = LocalRoomsCache()

    /// `onCommand` receives the node's commands one by one on the subscriber's
    /// router thread; `onBatchEnd` follows the commands of the messages taken
    /// from the subscriber's backlog together (one read from Redis, or more
    /// when routing fell behind), so a sink that queues them can write them
    /// out together. `onAvailability`
    /// hears when Redis becomes unreachable or reachable (see
    /// ``RedisAvailability``), on one of the connection threads;
    /// `onDataLoss` when Redis cut the subscriber (see ``SubscriberCut``);
    /// `onFailure` the cause of each failure of the registry connection
    /// (refused credentials and a full Redis are not mere outages).
    public init(
        configuration: Configuration,
        logger: Logger,
        onAvailability: @escaping @Sendable (_ reachable: Bool) -> Void = { _ in },
        onDataLoss: @escaping @Sendable (SubscriberCut) -> Void = { _ in },
        onFailure: @escaping @Sendable (RedisFailureCause) -> Void = { _ in },
        onBatchEnd: @escaping @Sendable () -> Void = {},
        onCommand: @escaping @Sendable (NodeCommand) -> Void
    ) {
        self.configuration = configuration
        channelRule = ChannelRule(
            registry: registry,
            servedNamespaces: servedNamespaces,
            pendingRoomJoins: pendingRoomJoins,
            linkReadFence: linkReadFence
        )
        self.logger = logger
        self.onCommand = onCommand
        self.flushCommands = onBatchEnd
        self.clusterChannels = ClusterChannels(key: configuration.adapterKey)
        self.onAvailability = onAvailability
        self.onDataLoss = onDataLoss
        self.onFailure = onFailure
        self.availability = Mutex(AvailabilityState(machine: RedisAvailability(now: .now)))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        // A sharded (ClusterAdapter) node's uid is 16 hex characters.
        uid =
            configuration.adapterFlavor.shardedMode == nil
            ? String((0..<6).map { _ in alphabet.randomElement(using: &generator) ?? "x" }) : ShardedWire.randomUid()
        sharded = configuration.adapterFlavor.shardedMode.map { [uid, clusterChannels] mode in
            ShardedMembership(
                mode: mode,
                prefix: configuration.adapterKey,
                classic: clusterChannels,
                uid: uid,
                retention: configuration.ackTimeout
            )
        }
        var incomingSettings = IncomingRequests.Settings(uid: uid, channels: clusterChannels)
        incomingSettings.nodeAnswerTimeoutMilliseconds = UInt64(configuration.nodeAnswerTimeout.milliseconds)
        incomingSettings.ackRetentionMilliseconds = UInt64(configuration.ackTimeout.milliseconds)
        // Each component below runs threads of its own. They reach the member
        // weakly (or hold what they use, as the registry and the mirror): a
        // callback that comes after the member is gone does nothing, so no
        // thread can read a freed member, whatever a stop's timing.
        cluster = ClusterRequestEngine(
            incoming: IncomingRequests(settings: incomingSettings),
            outgoing: configuration.adapterFlavor.shardedMode == nil
                ? OutgoingRequests(settings: .init(uid: uid, channels: clusterChannels))
                : OutgoingRequests(settings: .init(uid: uid, channels: clusterChannels)) { ShardedWire.randomUid() },
            logger: logger
        ) { [weak self] actions, fromTimer in self?.perform(actions, flush: fromTimer) }
        serverCounter = ServerCounter(redis: configuration.redis, timeout: configuration.redisTimeout, logger: logger) {
            [weak self] request, result in self?.serversCounted(request: request, result: result)
        }
        var mirrorSettings = RegistryMirror.Settings()
        mirrorSettings.livenessTTL = configuration.livenessTTL
        mirrorSettings.cleanupInterval = configuration.cleanupInterval
        mirrorSettings.connectTimeout = configuration.redisTimeout
        mirrorSettings.backoff = configuration.reconnectBackoff
        mirrorSettings.outboundLimit = configuration.outboundLimit
        mirrorSettings.outboundOverflow = configuration.outboundOverflow
        mirror = RegistryMirror(
            redis: configuration.redis,
            keys: configuration.registryKeys,
            nodeId: configuration.nodeId,
            settings: mirrorSettings,
            logger: logger,
            snapshot: { [registry] in
                registry.withLock { registry in
                    var all: [(String, String, Int64)] = []
                    all.reserveCapacity(registry.count)
                    registry.forEachSocket { all.append(($0, $1, $2)) }
                    return all
                }
            },
            record: { [weak self] in self?.nodeRecord },
            onReadiness: { [weak self] ready in
                self?.availabilityChanged { $0.update(mirrorReady: ready, now: .now) }
            },
            onFailure: { [weak self] cause in
                guard let self, !self.stopping.load(ordering: .relaxed) else { return }
                self.onFailure(cause)
            }
        )
        tracker = DeliveryTracker(
            settings: .init(
                policy: configuration.ackPolicy,
                timeout: configuration.ackTimeout,
                retention: configuration.confirmationRetention,
                nodeId: configuration.nodeId,
                keys: configuration.registryKeys
            ),
            logger: logger,
            write: { [mirror] commands in mirror?.enqueueCommands(commands) }
        )
        var subscriberSettings = AdapterSubscriber.Settings()
        subscriberSettings.pingInterval = configuration.pingInterval
        subscriberSettings.pingTimeout = configuration.pingTimeout
        subscriberSettings.connectTimeout = configuration.redisTimeout
        subscriberSettings.backoff = configuration.reconnectBackoff
        subscriberSettings.backlogBytes = configuration.subscriberBacklogBytes
        subscriber = AdapterSubscriber(
            redis: configuration.redis,
            settings: subscriberSettings,
            logger: logger,
            onDrained: onBatchEnd,
            onReadiness: { [weak self] ready in
                guard let self else { return }
                // Whatever the subscriber saw, the idle mirror connection may not have yet.
                self.mirror.checkConnection()
                self.availabilityChanged { $0.update(subscriberReady: ready, now: .now) }
            },
            onCut: { [weak self] cut in self?.subscriberCut(cut) },
            // The sharded adapter routes by its own channels: the router decides.
            readFilter: sharded == nil
                ? ReaderChannelFilter(rule: channelRule, counters: counters, adapterKey: configuration.adapterKey) : nil
        ) {
            // Per batch: the member's references live in a side table (weak
            // ones point at it), where a load and release per message cost ~160
            // instructions.
            [weak self] batch in
            guard let self else { return }
            batch.forEach { channel, payload in self.handle(channel: channel, payload: payload) }
        }
    }

    public func start() {
        startSentinelWatcher()
        subscribe(namespaces: configuration.namespaces)
        mirror.start()
        subscriber.start()
        tracker.start()
        cluster.start()
        serverCounter.start()
    }

    /// Stops both connections. With `leave`, this node's entries are removed
    /// from Redis first (a graceful shutdown); without, they stay until the
    /// liveness key expires and another busd cleans them up.
    public func stop(leave: Bool) {
        stopping.store(true, ordering: .relaxed)
        sentinelWatcher?.stop()
        tracker.stop()
        cluster.stop()
        serverCounter.stop()
        subscriber.stop()
        mirror.stop(removeEntries: leave)
    }

    // MARK: Node events

    /// The node's report on an injected ack id for one socket; `arguments`
    /// are the client's ack arguments (delivered only).
    public func acknowledged(ackId: UInt64, socketId: String, status: AckStatus, arguments: [JSValue]) {
        // An acked broadcast from another server: each client ack is one BROADCAST_ACK.
        var owned = false
        let actions = cluster.run(addsDeadline: false) { machines, _ in
            guard machines.incoming.ownsAck(ackId) else { return [] }
            owned = true
            return status == .delivered ? machines.incoming.acked(ackId: ackId, arguments: arguments) ?? [] : []
        }
        if owned {
            perform(actions, flush: false)
            return
        }
        tracker.report(ackId: ackId, socketId: socketId, status: status, arguments: arguments)
    }

    /// Sends (queues) a command for the node.
    func command(_ command: NodeCommand) { onCommand(command) }

    public var ackCounts: AckCounts { tracker.counts }

    /// A v1 node's broadcast (rooms are names): published as
    /// ``publishBroadcast(namespace:packet:rooms:except:flags:)`` with typed rooms does.
    public func publishBroadcast(
        namespace: String,
        packet: SocketIOPacket,
        rooms: [String],
        except: [String],
        flags: JSObject
    ) throws(CodecError) {
        try publishBroadcast(
            namespace: namespace,
            packet: packet,
            rooms: rooms.map(Room.name),
            except: except.map(Room.name),
            flags: flags
        )
    }

    /// The Socket.IO node's process (from its HELLO): shown beside busd's
    /// own pid in the node record, where an operator looks for it. The
    /// record is rewritten at once.
    public func nodeProcessConnected(pid: Int) {
        nodePid.withLock { $0 = pid }
        mirror.refreshRecord()
    }

    var nodeRecord: NodeRecord {
        NodeRecord(
            id: configuration.nodeId,
            host: configuration.host,
            pid: Int(ProcessInfo.processInfo.processIdentifier),
            nodePid: nodePid.withLock { $0 },
            version: configuration.version,
            startedAt: startedAt,
            sockets: socketCount,
            uid: uid
        )
    }

    // MARK: Adapter messages (router thread)

    /// The subscriber's entry point, for benchmarks that time routing
    /// without Redis. Call from one thread only.
    @_spi(Benchmarks) public func route(channel: [UInt8], payload: [UInt8]) {
        channel.withUnsafeBytes { channel in payload.withUnsafeBytes { handle(channel: channel, payload: $0) } }
    }

    /// `bytes` and `payload` lie in the subscriber's read buffer: valid
    /// during the call only, copied only when the payload is decoded.
    private func handle(channel bytes: UnsafeRawBufferPointer, payload bytesOfPayload: UnsafeRawBufferPointer) {
        counters.received.add(1, ordering: .relaxed)
        // Most traffic repeats a few channels: parse each once in a row.
        if !lastChannelBytes.equals(bytes) {
            lastChannel = try? AdapterChannel(
                parsing: String(decoding: bytes, as: UTF8.self),
                key: configuration.adapterKey
            )
            lastChannelBytes = Array(bytes)
            lastChannelCheck = nil
        }
        guard let channel = lastChannel else { return }
        if let sharded {
            copyPayload(bytesOfPayload)
            handleSharded(payload, channel: channel, sharded)
            return
        }
        switch channel {
        case .broadcast(_, let namespace, let room):
            // The adapter's own shortcut, extended to namespaces: a broadcast
            // no local socket can get is dropped before it is decoded.
            guard mayHaveTargets(namespace: namespace, room: room) else {
                counters.countChannelDrop(room: room)
                return
            }
            route(bytesOfPayload, namespace: namespace, &delivery, &lastSelection)
        case .request(_, let namespace):
            copyPayload(bytesOfPayload)
            handleClusterRequest(payload, namespace: namespace, channel: channel)
        case .response:
            copyPayload(bytesOfPayload)
            handleClusterResponse(payload, channel: channel)
        }
    }

    private func copyPayload(_ bytes: UnsafeRawBufferPointer) {
        payload.removeAll(keepingCapacity: true)
        // As UInt8s: appending a raw buffer goes through the generic sequence path.
        payload.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
    }

    func handleBroadcast(_ payload: [UInt8], namespace: String) {
        payload.withUnsafeBytes { route($0, namespace: namespace, &delivery, &lastSelection) }
    }

    /// The router's state as inout arguments: exclusive, so its arrays and
    /// strings are lent to the frame writer as they are, where reading them
    /// from the member's stored properties copied them (a retain and a
    /// release each, ~20 per message).
    ///
    /// `payload` may lie in the subscriber's read buffer (valid during the
    /// call): the byte path decodes it there, and only a payload it leaves
    /// to the tree path is copied out.
    private func route(
        _ payload: UnsafeRawBufferPointer,
        namespace: String,
        _ delivery: inout BroadcastDelivery,
        _ selection: inout CachedSelection
    ) {
        if !decoder.decodeBytes(payload, into: &delivery) {
            copyPayload(payload)
            do {
                try decoder.decode(self.payload, into: &delivery, bytePathTried: true)
            } catch {
                counters.malformed.add(1, ordering: .relaxed)
                logger.debug("malformed broadcast skipped: \(error)")
                return
            }
        }
        if delivery.uid == uid {
            counters.ownDropped.add(1, ordering: .relaxed)
            return
        }
        guard delivery.namespace == namespace else {
            // A publisher's bug: the adapter would not deliver it either.
            counters.malformed.add(1, ordering: .relaxed)
            logger.debug("broadcast skipped: namespace \(delivery.namespace) on the channel of \(namespace)")
            return
        }
        if nodePresence == .v2 {
            deliverToRooms(payload, namespace: namespace, delivery)
            return
        }
        selection.select(namespace: namespace, delivery, from: registry)
        guard !selection.targets.isEmpty else { return }
        counters.deliveries.add(1, ordering: .relaxed)
        let ackId = injectAckId(payload: payload, namespace: namespace, targets: selection.targets, delivery)
        // Under the link's lock, which its attach and detach alone take: the
        // link is used in place, where a strong reference cost a retain and
        // a release on its side table (~200 instructions per message).
        func deliver(_ packet: [UInt8]) -> Bool {
            deliveryLink.withLock { link in
                link?.deliver(
                    namespace: namespace,
                    socketIds: selection.targets,
                    ackId: ackId,
                    packet: packet,
                    attachments: delivery.attachments,
                    flags: DeliveryFlags(volatile: delivery.isVolatile, compress: delivery.compress)
                ) != nil
            }
        }
        if ackId == 0 ? deliver(delivery.packet) : deliver(injected) { return }
        onCommand(
            .deliver(
                namespace: namespace,
                socketIds: selection.targets,
                ackId: ackId,
                packet: ackId == 0 ? delivery.packet : injected,
                attachments: delivery.attachments,
                volatile: delivery.isVolatile,
                compress: delivery.compress
            )
        )
    }

    /// A v2 node chooses the targets by its own rooms when the frame arrives
    /// (so a join it has made is always applied): no registry selection, and
    /// the delivery record waits for DELIVERED to learn the sockets.
    private func deliverToRooms(_ payload: UnsafeRawBufferPointer, namespace: String, _ delivery: BroadcastDelivery) {
        counters.deliveries.add(1, ordering: .relaxed)
        var ackId: UInt64 = 0
        if wantsAck(delivery), delivery.existingAckId == nil {
            let id = tracker.nextId()
            if case .injected? = try? AckIdInjector.inject(id, into: delivery.packet.span, output: &injected) {
                ackId = id
                awaitingDelivered.remember(
                    ackId: id,
                    messageId: delivery.request?.messageId ?? MessageDigest.id(of: Array(payload)),
                    namespace: namespace,
                    timeoutMilliseconds: tracker.timeoutMilliseconds(for: delivery.request)
                )
            }
        }
        // Under the link's lock, as route() delivers.
        func deliver(_ packet: [UInt8]) -> Bool {
            deliveryLink.withLock { link in
                guard link != nil else { return false }
                let (rooms, except) = lastLocalRooms.localRooms(delivery.rooms, delivery.except)
                return link?.deliverToRooms(
                    namespace: namespace,
                    rooms: rooms,
                    except: except,
                    ackId: ackId,
                    packet: packet,
                    attachments: delivery.attachments,
                    flags: DeliveryFlags(volatile: delivery.isVolatile, compress: delivery.compress)
                ) != nil
            }
        }
        if ackId == 0 ? deliver(delivery.packet) : deliver(injected) { return }
        onCommand(
            .deliverToRooms(
                namespace: namespace,
                rooms: delivery.rooms,
                except: delivery.except,
                ackId: ackId,
                packet: ackId == 0 ? delivery.packet : injected,
                attachments: delivery.attachments,
                volatile: delivery.isVolatile,
                compress: delivery.compress
            )
        )
    }

    /// Splices an ack id into the delivery's packet (into `injected`) when
    /// the policy wants one and the packet is an event without an id of its
    /// own; returns the id, or 0.
    private func injectAckId(
        payload: UnsafeRawBufferPointer,
        namespace: String,
        targets: [String],
        _ delivery: BroadcastDelivery
    ) -> UInt64 {
        guard wantsAck(delivery), delivery.existingAckId == nil else { return 0 }
        let ackId = tracker.nextId()
        let packet = delivery.packet
        do {
            guard case .injected = try AckIdInjector.inject(ackId, into: packet.span, output: &injected) else {
                return 0
            }
        } catch {
            return 0  // not an event: nothing to acknowledge
        }
        tracker.dispatched(
            ackId: ackId,
            messageId: delivery.request?.messageId ?? MessageDigest.id(of: Array(payload)),
            namespace: namespace,
            sockets: targets,
            timeoutMilliseconds: tracker.timeoutMilliseconds(for: delivery.request)
        )
        return ackId
    }

    /// The tracker's answer, without loading the tracker (a retain and a
    /// release) for the common case: no `socketbus` options and a policy
    /// that wants an ack only when they ask for one.
    @inline(__always)
    private func wantsAck(_ delivery: BroadcastDelivery) -> Bool {
        if delivery.request == nil && configuration.ackPolicy != .all { return false }
        return tracker.wantsAck(delivery.request)
    }
}
