import SocketIOCodec

extension IncomingRequests {
    /// ANSWER from the node. `status` 0 answered, anything else: the node
    /// cannot answer (busd answers as an empty node would). A late or
    /// unknown answer is ignored.
    public mutating func answered(request: UInt32, status: UInt8, body: [UInt8]) -> [ClusterAction] {
        guard let pending = questions.removeValue(forKey: request) else { return [] }
        guard status == 0 else { return emptyAnswer(pending) }
        switch pending.kind {
        case .fetch:
            // The node's JSON goes out as it wrote it, once it is known to be
            // an array (skimmed, not parsed: it may list 10k sockets).
            guard JSONSkim().isArray(body) else { return emptyAnswer(pending) }
            return [
                publish(
                    pending.namespace,
                    ResponseEncoding.fetchedSockets(requestId: pending.requestId, socketsJSON: body)
                )
            ]
        case .serverSideEmit:
            guard case .array(let arguments)? = try? JSONText.value(body) else { return [] }
            let payload = ResponseEncoding.serverSideEmit(
                requestId: pending.requestId,
                data: arguments.first ?? .undefined
            )
            return [publish(pending.namespace, payload)]
        case .custom:
            guard let data = try? JSONText.value(body) else { return emptyAnswer(pending) }
            return [publish(pending.namespace, Self.customReply(pending.requestId, data == .undefined ? .null : data))]
        }
    }

    /// Everything due at `now`: questions the node let pass its bound
    /// (answered for it, and counted), acked broadcasts without DELIVERED
    /// (count 0), and acked broadcasts past their time-out (forgotten).
    public mutating func expire(now: UInt64) -> [ClusterAction] {
        guard earliest.isDue(now) else { return [] }
        defer { earliest.reset(to: nextDeadline) }
        var actions: [ClusterAction] = []
        for (id, pending) in questions.sorted(by: { $0.key < $1.key }) where pending.deadline <= now {
            questions[id] = nil
            actions.append(.nodeAnswerMissed(kind: pending.kind.label))
            actions += emptyAnswer(pending)
        }
        for (ackId, pending) in broadcasts.sorted(by: { $0.key < $1.key }) {
            if !pending.counted && pending.countDeadline <= now {
                broadcasts[ackId]?.counted = true
                actions.append(.nodeAnswerMissed(kind: "delivered"))
                actions.append(countNone(pending))
            }
            if pending.expiry <= now { broadcasts[ackId] = nil }
        }
        return actions
    }

    /// The node's session ended: what it was asked is answered for it now
    /// (as an empty node would), without waiting for the bound.
    public mutating func nodeGone() -> [ClusterAction] {
        var actions: [ClusterAction] = []
        for (_, pending) in questions.sorted(by: { $0.key < $1.key }) { actions += emptyAnswer(pending) }
        questions = [:]
        for (_, pending) in broadcasts.sorted(by: { $0.key < $1.key }) where !pending.counted {
            actions.append(countNone(pending))
        }
        broadcasts = [:]
        earliest.reset(to: nil)
        return actions
    }

    private func countNone(_ pending: PendingBroadcast) -> ClusterAction {
        publish(pending.namespace, ResponseEncoding.broadcastClientCount(requestId: pending.requestId, clientCount: 0))
    }

    /// An empty node's answer: no sockets, no customHook value, and no
    /// SERVER_SIDE_EMIT reply (an invented ack value would lie to the requester).
    private func emptyAnswer(_ pending: PendingQuestion) -> [ClusterAction] {
        switch pending.kind {
        case .fetch:
            return [
                publish(pending.namespace, ResponseEncoding.fetchedSockets(requestId: pending.requestId, sockets: []))
            ]
        case .serverSideEmit:
            return []
        case .custom:
            return [publish(pending.namespace, Self.customReply(pending.requestId, .null))]
        }
    }
}
