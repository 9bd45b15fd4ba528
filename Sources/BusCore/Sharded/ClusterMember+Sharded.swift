import ClusterRequests
import Logging
import SocketIOCodec
import Synchronization

/// busd as a member of a sharded-adapter cluster (`createShardedAdapter`):
/// SSUBSCRIBE of each namespace's channel and of its own response channel,
/// in the dynamic modes the channels of its node's rooms; ClusterAdapter
/// messages in, translated for the request machines (``ShardedWire``); the
/// node's broadcasts out with SPUBLISH where a stock node would put them.
extension ClusterMember {
    /// `<prefix>#<nsp>#` and `<prefix>#<nsp>#<uid>#` of each namespace, and
    /// the room channels of the rooms the node already has there.
    func subscribeSharded(namespaces: [String], _ sharded: ShardedMembership) {
        var channels: [String] = []
        for namespace in namespaces {
            channels.append(sharded.channels.main(namespace))
            channels.append(sharded.channels.responses(namespace, uid: uid))
        }
        subscriber.subscribe(shardChannels: channels)
        for namespace in namespaces {
            let rooms = registry.read { $0.allRooms(namespace: namespace) }.0
            shardedRoomsTouched(namespace: namespace, rooms: rooms)
        }
    }

    /// After the node's sockets joined or left `rooms` (or connected or went):
    /// SSUBSCRIBE the channel of each room the node now has and the mode
    /// wants, SUNSUBSCRIBE the channel of each room it no longer has, as a
    /// stock node does on the adapter's `create-room` / `delete-room`.
    func shardedRoomsTouched(namespace: String, rooms: [Room]) {
        guard let sharded, sharded.channels.mode != .static, !rooms.isEmpty else { return }
        let states = registry.read { registry in
            rooms.map { room -> (String, Bool) in
                let text = room.description
                let present = registry.hasRoom(text, namespace: namespace)
                let isSocketId = registry.socket(text)?.namespace == namespace
                return (sharded.channels.room(namespace, room), present && sharded.channels.subscribesRoom(isSocketId: isSocketId))
            }
        }.0
        var added: [String] = []
        var dropped: [String] = []
        sharded.roomChannels.withLock { subscribed in
            for (channel, wanted) in states {
                if wanted, subscribed.insert(channel).inserted { added.append(channel) }
                if !wanted, subscribed.remove(channel) != nil { dropped.append(channel) }
            }
        }
        if !added.isEmpty { subscriber.subscribe(shardChannels: added) }
        if !dropped.isEmpty { subscriber.unsubscribe(shardChannels: dropped) }
    }

    /// The rooms of a socket (its own id first) and its namespace, before it goes.
    func shardedRoomsOf(_ id: String) -> (namespace: String, rooms: [Room])? {
        guard sharded != nil else { return nil }
        return registry.read { registry -> (String, [Room])? in
            guard let socket = registry.socket(id) else { return nil }
            return (socket.namespace, [.name(id)] + socket.typedRooms)
        }.0
    }

    /// A message on a sharded channel (router thread): `channel` parsed as
    /// `<prefix>#<nsp>#[<suffix>#]`.
    func handleSharded(_ payload: [UInt8], channel: AdapterChannel, _ sharded: ShardedMembership) {
        guard case .broadcast(_, let namespace, let suffix) = channel else { return }
        let message: ShardedMessage
        do {
            message = try ShardedMessage.decode(payload)
        } catch {
            counters.malformed.add(1, ordering: .relaxed)
            sharded.counters.malformed()
            logger.debug("malformed sharded message skipped: \(error)", metadata: ["channel": "\(channel.name)"])
            return
        }
        // socket.io-adapter 2.5.6+ ignores a message from another namespace.
        if let other = message.namespace, other != namespace {
            counters.malformed.add(1, ordering: .relaxed)
            sharded.counters.malformed()
            return
        }
        let own = message.uid == uid
        if message.isResponse || suffix == uid {
            guard !own, let response = sharded.wire.withLock({ $0.response(message) }) else { return }
            sharded.counters.received(message.type)
            perform(cluster.run(addsDeadline: false) { machines, _ in machines.outgoing.response(response) }, flush: false)
            return
        }
        switch message.body {
        case .socketsJoin, .socketsLeave, .disconnectSockets:
            // The stock sender applies these to its own sockets too; busd's
            // node learns its own when they come back.
            break
        default:
            if own {
                counters.ownDropped.add(1, ordering: .relaxed)
                return
            }
        }
        if !own { sharded.counters.received(message.type) }
        switch message.body {
        case .initialHeartbeat, .heartbeat, .adapterClose:
            return
        case .broadcast(var packet, nil, let options):
            // Delivered as the classic broadcast it equals (the packet gets its namespace).
            if packet["nsp"] == nil { packet["nsp"] = .string(namespace) }
            guard case .object(let opts) = ShardedMessage.value(options),
                let bytes = try? BroadcastMessage(uid: message.uid ?? "", packet: packet, options: opts).encode()
            else {
                counters.malformed.add(1, ordering: .relaxed)
                sharded.counters.malformed()
                return
            }
            handleBroadcast(bytes, namespace: namespace)
        default:
            let now = sharded.now
            guard let request = sharded.wire.withLock({ $0.request(message, namespace: namespace, now: now) }) else {
                return
            }
            receiveClusterRequest(request, namespace: namespace)
        }
    }

    /// A PUBLISH the request machines decided, in the sharded form: SPUBLISH
    /// on the channel a stock sharded node would use.
    func publishSharded(channel: String, payload: [UInt8], _ sharded: ShardedMembership) {
        let now = sharded.now
        guard let (target, bytes) = sharded.wire.withLock({ $0.publish(channel: channel, payload: payload, now: now) })
        else {
            sharded.counters.unpublishable()
            logger.debug("a cluster message without a sharded form was not published", metadata: ["channel": "\(channel)"])
            return
        }
        mirror.enqueueCommands([[Array("SPUBLISH".utf8), Array(target.utf8), bytes]])
    }

    /// One of the node's own broadcasts as a stock sharded node publishes it:
    /// BROADCAST `{packet: {type, data[, id]}, opts}` (no `nsp` in the
    /// packet), on the room channel in the dynamic modes when the rule says so.
    func publishShardedBroadcast(
        namespace: String,
        packet: SocketIOPacket,
        data: [JSValue],
        rooms: [Room],
        except: [Room],
        flags: JSObject,
        _ sharded: ShardedMembership
    ) throws(CodecError) {
        var map = JSObject([("type", .number(2)), ("data", .array(data))])
        if let id = packet.id { map["id"] = .number(id) }
        let message = ShardedMessage(
            .broadcast(packet: map, requestId: nil, options: .init(rooms: rooms, except: except, flags: flags)),
            uid: uid,
            namespace: namespace
        )
        let bytes = try message.encode()
        let channel = sharded.channels.channel(for: message, namespace: namespace)
        mirror.enqueueCommands([[Array("SPUBLISH".utf8), Array(channel.utf8), bytes]])
    }

    /// The node's cluster calls the sharded adapter has no message for
    /// (allRooms: a stock sharded node has no such method), answered at once
    /// with a failure instead of a time-out; nil for the others.
    func shardedRefusal(request: UInt32, kind: ClusterRequestKind) -> [ClusterAction]? {
        guard sharded != nil, kind == .allRooms else { return nil }
        let message = "allRooms is not part of the sharded adapter (createShardedAdapter has no allRooms)"
        let body = JSONText.bytes(.object(JSObject([("error", .string(message))])))
        return [.reply(request: request, status: .failed, body: body)]
    }

    /// Counts of the sharded adapter's traffic (nil in classic mode).
    public var shardedStatistics: ShardedStatistics? { sharded?.counters.snapshot }

    /// Sharded channels Redis confirmed (SSUBSCRIBE).
    public var subscribedShardChannels: Set<String> { subscriber.confirmedShardChannels }
}
