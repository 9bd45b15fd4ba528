import ClusterRequests
import Logging
import SocketIOCodec
import Synchronization

/// The adapter's request protocol wired to I/O: requests and responses read
/// from Redis, the node's frames, and the actions the machines return
/// (publish, node commands, NUMSUB).
extension ClusterMember {
    /// Whom busd answers for, from the node's session version.
    var nodePresence: NodePresence { channelRule.nodePresence }

    /// A request read on `namespace`'s request channel (router thread).
    func handleClusterRequest(_ payload: [UInt8], namespace: String, channel: AdapterChannel) {
        let request: RequestMessage
        do {
            guard case .request(let decoded) = try AdapterMessage.decode(payload, channel: channel) else { return }
            request = decoded
        } catch {
            counters.malformed.add(1, ordering: .relaxed)
            logger.debug("malformed request skipped: \(error)")
            return
        }
        receiveClusterRequest(request, namespace: namespace)
    }

    /// A decoded request (classic, or translated from the sharded form).
    func receiveClusterRequest(_ request: RequestMessage, namespace: String) {
        let receivedAt = ContinuousClock.now
        clusterCounters.requestIn(request.typeName)
        let presence = nodePresence
        let tracker = self.tracker!
        let (actions, _) = registry.read { registry in
            let view = RegistryView(registry: copy registry, typed: presence == .v2)
            return cluster.run { machines, now in
                let own = request.requestId.map { machines.outgoing.owns($0) } ?? false
                return machines.incoming.receive(
                    request,
                    namespace: namespace,
                    node: presence,
                    registry: view,
                    isOwn: own,
                    now: now,
                    nextAckId: { tracker.nextId() }
                )
            }
        }
        if !actions.isEmpty { counters.requestsApplied.add(1, ordering: .relaxed) }
        perform(actions, flush: false)
        // Answered at once (busd answers from its registry); answers that wait
        // for the node are timed when it answers (nodeAnswered).
        if actions.contains(where: { if case .publish = $0 { true } else { false } }) {
            LatencyHistograms.shared.requestAnswer.observe(since: receivedAt)
        }
    }

    /// A message on a response channel (router thread).
    func handleClusterResponse(_ payload: [UInt8], channel: AdapterChannel) {
        // Answers to other servers' requests (and busd's own answers) are
        // not parsed: only what answers a request busd published is.
        if let requestId = ResponsePeek.requestId(payload) {
            guard cluster.read({ $0.outgoing.owns(requestId) }) else {
                counters.responsesSkipped.add(1, ordering: .relaxed)
                return
            }
            // A fetchSockets answer (a large node's is megabytes) is checked
            // and its sockets passed on as they came: no parse, no re-encoding.
            if cluster.read({ $0.outgoing.collectsSockets(requestId) }),
                let sockets = JSONSkim().member("sockets", of: payload)
            {
                let array = sockets.flatMap { payload[$0].first == UInt8(ascii: "[") ? payload[$0] : nil }
                let actions = cluster.run(addsDeadline: false) { machines, _ in
                    machines.outgoing.fetchedSockets(requestId: requestId, socketsArray: array)
                }
                perform(actions, flush: false)
                return
            }
        }
        let response: ResponseMessage
        do {
            guard case .response(let decoded) = try AdapterMessage.decode(payload, channel: channel) else { return }
            response = decoded
        } catch {
            counters.malformed.add(1, ordering: .relaxed)
            logger.debug("malformed response skipped: \(error)")
            return
        }
        perform(cluster.run(addsDeadline: false) { machines, _ in machines.outgoing.response(response) }, flush: false)
    }

    /// The node's session ended (or stopped being v2): what it was asked is
    /// answered for it, its own requests are forgotten. Publishes only: this
    /// runs under the node link's lock.
    func clusterNodeGone() {
        let actions = cluster.run(addsDeadline: false) { machines, _ in
            machines.outgoing.nodeGone()
            return machines.incoming.nodeGone()
        }
        perform(actions, flush: false)
    }

    /// Does what the machines decided. `flush` sends the node's commands at
    /// once (off the router thread, whose batch end flushes them).
    func perform(_ actions: [ClusterAction], flush: Bool) {
        guard !actions.isEmpty else { return }
        var commanded = false
        for action in actions {
            switch action {
            case .publish(let channel, let payload):
                if let sharded {
                    publishSharded(channel: channel, payload: payload, sharded)
                } else {
                    mirror.enqueuePublish(channel: Array(channel.utf8), payload: payload)
                }
            case .apply(let operation, let namespace, let rooms, let except, let targets, let close):
                let what: NodeApplyAction
                switch operation {
                case .join:
                    what = .join(targets)
                    // Before the node has it: the broadcasts that follow in Redis's order must pass.
                    pendingRoomJoins.joining(targets, namespace: namespace)
                case .leave: what = .leave(targets)
                case .disconnect: what = .disconnect(close: close)
                }
                command(.apply(namespace: namespace, rooms: rooms, except: except, action: what))
                commanded = true
            case .applyToSockets(let operation, let namespace, let ids, let rooms, let close):
                commanded = true
                applyToSockets(operation, namespace, ids, rooms, close)
            case .serverSideEmit(let namespace, let data):
                command(.serverSideEmit(namespace: namespace, data: data))
                commanded = true
            case .ask(let request, let kind, let namespace, let body):
                QuestionClock.shared.asked(request)
                command(.question(request: request, kind: kind.rawValue, namespace: namespace, body: body))
                commanded = true
            case .deliver(let delivery):
                counters.deliveries.add(1, ordering: .relaxed)
                if let ids = delivery.socketIds {
                    command(
                        .deliver(
                            namespace: delivery.namespace,
                            socketIds: ids,
                            ackId: delivery.ackId,
                            packet: delivery.packet.text,
                            attachments: delivery.packet.attachments,
                            volatile: false,
                            compress: nil
                        )
                    )
                } else {
                    command(
                        .deliverToRooms(
                            namespace: delivery.namespace,
                            rooms: delivery.rooms,
                            except: delivery.except,
                            ackId: delivery.ackId,
                            packet: delivery.packet.text,
                            attachments: delivery.packet.attachments,
                            volatile: false,
                            compress: nil
                        )
                    )
                }
                commanded = true
            case .nodeAnswerMissed(let kind):
                clusterCounters.answerMissed(kind)
                logger.debug("the node did not answer in time; answered for it", metadata: ["kind": "\(kind)"])
            case .countServers(let request, let namespace):
                if let sharded {
                    serverCounter.count(request: request, channel: sharded.channels.main(namespace), sharded: true)
                } else {
                    serverCounter.count(request: request, channel: clusterChannels.request(namespace))
                }
            case .reply(let request, let status, let body):
                command(.clusterReply(request: request, status: status.rawValue, body: body))
                commanded = true
            case .ackCount(let request, let clientCount):
                command(.ackCount(request: request, clientCount: clientCount))
                commanded = true
            case .ackArgument(let request, let argument):
                command(.ackArgument(request: request, argument: argument))
                commanded = true
            }
        }
        if flush && commanded { flushCommands() }
    }

    /// A v1 node: the registry chose the sockets; it learns the change at once.
    private func applyToSockets(
        _ operation: ApplyOperation,
        _ namespace: String,
        _ ids: [String],
        _ rooms: [Room],
        _ close: Bool
    ) {
        let names = rooms.map(\.description)
        switch operation {
        case .join:
            registry.withLock { registry in for id in ids { registry.join(id, rooms: names) } }
            command(.join(namespace: namespace, socketIds: ids, rooms: names))
        case .leave:
            registry.withLock { registry in for id in ids { registry.leave(id, rooms: names) } }
            command(.leave(namespace: namespace, socketIds: ids, rooms: names))
        case .disconnect:
            let changes = registry.withLock { registry in ids.compactMap { registry.disconnect($0) } }
            for change in changes { mirror.enqueue(change) }
            command(.disconnect(namespace: namespace, socketIds: ids, close: close))
        }
    }

    /// The answer to a NUMSUB asked for the node (counter thread).
    func serversCounted(request: UInt32, result: Result<Int, ServerCountError>) {
        perform(
            cluster.run { machines, now in machines.outgoing.serverCount(request: request, result: result, now: now) },
            flush: true
        )
    }
}

/// The request protocol's counters, for /metrics.
final class ClusterCounters: Sendable {
    private let state = Mutex<(requestsIn: [String: Int], requestsOut: [String: Int], missed: [String: Int])>(
        ([:], [:], [:])
    )

    func requestIn(_ type: String) {
        let label = type.hasPrefix("unknown") ? "unknown" : type
        state.withLock { $0.requestsIn[label, default: 0] += 1 }
    }
    func requestOut(_ kind: String) { state.withLock { $0.requestsOut[kind, default: 0] += 1 } }
    func answerMissed(_ kind: String) { state.withLock { $0.missed[kind, default: 0] += 1 } }

    var snapshot: ClusterMember.ClusterStatistics {
        state.withLock {
            ClusterMember.ClusterStatistics(
                requestsIn: $0.requestsIn,
                requestsOut: $0.requestsOut,
                answersMissed: $0.missed
            )
        }
    }
}

extension ClusterMember {
    public struct ClusterStatistics: Sendable, Hashable {
        /// Requests read from other servers and emitters, by type name (`REMOTE_FETCH`, `clients`, …).
        public var requestsIn: [String: Int]
        /// The node's requests busd issued, by kind (`fetch_sockets`, …, `broadcast_with_ack`).
        public var requestsOut: [String: Int]
        /// Answers busd gave for a node that did not answer in time, by kind.
        public var answersMissed: [String: Int]
    }

    public var clusterStatistics: ClusterStatistics { clusterCounters.snapshot }
}
