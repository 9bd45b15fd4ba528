public import SocketIOCodec

extension IncomingRequests {
    /// BROADCAST (7) with acks: deliver to the matching sockets with a busd ack
    /// id, then BROADCAST_CLIENT_COUNT once, then one BROADCAST_ACK per client ack.
    mutating func broadcastWithAck(
        _ message: BroadcastMessage,
        requestId: String,
        _ namespace: String,
        _ node: NodePresence,
        _ registry: some ClusterRegistryView,
        _ now: UInt64,
        _ nextAckId: () -> UInt64
    ) -> [ClusterAction] {
        // The stock receiver keeps only rooms and except (flags are dropped).
        let rooms = message.rooms
        let except = message.except ?? []
        let countNone = publish(namespace, ResponseEncoding.broadcastClientCount(requestId: requestId, clientCount: 0))
        var targets: [String]? = nil
        switch node {
        case .absent:
            return [countNone]
        case .v1:
            let ids = registry.sockets(namespace: namespace, rooms: rooms, except: except)
            guard !ids.isEmpty else { return [countNone] }
            targets = ids
        case .v2:
            break
        }
        guard let type = message.packetType, type == 2 || type == 5 else { return [countNone] }
        let ackId = nextAckId()
        let packet = PacketEncoder().encode(
            SocketIOPacket(type: type, namespace: namespace, id: Double(ackId), data: message.data)
        )
        let timeout =
            message.flags["timeout"]?.numberValue.flatMap(Self.milliseconds) ?? settings.ackRetentionMilliseconds
        var pending = PendingBroadcast(
            requestId: requestId,
            namespace: namespace,
            counted: false,
            countDeadline: Deadline.after(now, settings.nodeAnswerTimeoutMilliseconds),
            expiry: Deadline.after(now, max(timeout, settings.nodeAnswerTimeoutMilliseconds))
        )
        let delivery = ClusterDelivery(
            ackId: ackId,
            namespace: namespace,
            rooms: rooms,
            except: except,
            packet: packet,
            socketIds: targets
        )
        var actions: [ClusterAction] = [.deliver(delivery)]
        if let targets {
            // v1: the registry's choice is the count.
            pending.counted = true
            actions.append(
                publish(
                    namespace,
                    ResponseEncoding.broadcastClientCount(requestId: requestId, clientCount: targets.count)
                )
            )
        }
        broadcasts[ackId] = pending
        return actions
    }

    /// DELIVERED from a v2 node: the sockets it wrote the acked broadcast to.
    public mutating func delivered(ackId: UInt64, socketIds: [String]) -> [ClusterAction] {
        guard var pending = broadcasts[ackId], !pending.counted else { return [] }
        pending.counted = true
        broadcasts[ackId] = pending
        let payload = ResponseEncoding.broadcastClientCount(requestId: pending.requestId, clientCount: socketIds.count)
        return [publish(pending.namespace, payload)]
    }

    /// Whether `ackId` is one of the cluster's acked broadcasts (not a delivery-record id).
    public func ownsAck(_ ackId: UInt64) -> Bool { broadcasts[ackId] != nil }

    /// ACKED `delivered` for a cluster broadcast: one BROADCAST_ACK with the
    /// client's first argument (a Node Buffer's JSON form as msgpack `bin`). nil when the id is not a cluster broadcast's.
    public mutating func acked(ackId: UInt64, arguments: [JSValue]) -> [ClusterAction]? {
        guard let pending = broadcasts[ackId] else { return nil }
        guard
            let payload = try? ResponseEncoding.broadcastAck(
                requestId: pending.requestId,
                argument: (arguments.first ?? .undefined).revivingNodeBuffers
            )
        else { return [] }
        return [publish(pending.namespace, payload)]
    }

    /// A JavaScript time-out in milliseconds, when it is one.
    static func milliseconds(_ value: Double) -> UInt64? {
        guard value.isFinite, value >= 0, value < 1e12 else { return nil }
        return UInt64(value)
    }
}
