import ClusterRequests
public import LocalProtocol
import Logging
public import SocketIOCodec
import Synchronization

/// A well-formed frame from the node whose content busd cannot use: the node
/// link answers it with ERROR 6 `unusable content`, counts it, and keeps the
/// connection.
public struct UnusableContent: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The node → busd frames of local protocol version 2
/// (docs/local-protocol-v2.md), as the node link hands them over.
///
/// The request frames go to the request state machines
/// (ClusterMember+Requests.swift).
extension ClusterMember {
    // MARK: Session

    /// HELLO was answered with `version`: busd speaks that version to the node.
    public func nodeSessionStarted(version: UInt16) {
        let previous = channelRule.nodeProtocolVersion.exchange(version, ordering: .acquiringAndReleasing)
        // Questions asked of a v2 session that is no more are answered for it.
        if previous != version && previous >= 2 { clusterNodeGone() }
    }

    /// The node's connection ended: busd answers as an empty node would.
    public func nodeSessionEnded() {
        let previous = channelRule.nodeProtocolVersion.exchange(0, ordering: .acquiringAndReleasing)
        if previous != 0 { clusterNodeGone() }
        // The next session announces its namespaces again.
        servedNamespaces.removeAll()
        pendingRoomJoins.removeAll()
    }

    /// The local protocol version of the node's session; 0 while no node is connected.
    public var nodeSessionVersion: UInt16 { channelRule.nodeProtocolVersion.load(ordering: .acquiring) }

    // MARK: Namespaces and rooms

    /// NAMESPACE: the node serves `namespace`. Subscribes its broadcast
    /// pattern and, with plain SUBSCRIBE (counted by `PUBSUB NUMSUB`), its
    /// request and response channels, as a first socket of a new namespace does.
    public func nodeServesNamespace(_ namespace: String) {
        servedNamespaces.insert(namespace)
        subscribe(namespaces: [namespace])
    }

    /// ROOMS_JOIN: the registry keeps rooms typed (`123` and `"123"` are two
    /// rooms); it answers SOCKETS/ALL_ROOMS and, for a node that asked for
    /// it (kind 10), lets the router drop a room miss before decoding, but a
    /// v2 node's broadcasts are not routed by it: the node picks their
    /// targets by its own rooms.
    public func socketJoined(_ id: String, namespace: String, rooms: [Room]) {
        registry.withLock { _ = $0.join(id, typedRooms: rooms) }
        shardedRoomsTouched(namespace: namespace, rooms: rooms)
    }

    /// ROOMS_LEAVE, as ``socketJoined(_:namespace:rooms:)``.
    public func socketLeft(_ id: String, namespace: String, rooms: [Room]) {
        registry.withLock { _ = $0.leave(id, typedRooms: rooms) }
        shardedRoomsTouched(namespace: namespace, rooms: rooms)
    }

    /// ROOMS_BROADCAST: publishes one of the node's own broadcasts as
    /// @socket.io/redis-adapter 8.3 would, rooms keeping their type (a
    /// numeric room is a msgpack integer, and names the room channel
    /// `<key>#<nsp>#123#` when it is the only room).
    public func publishBroadcast(
        namespace: String,
        packet: SocketIOPacket,
        rooms: [Room],
        except: [Room],
        flags: JSObject
    ) throws(CodecError) {
        guard case .array(let data)? = packet.data else {
            throw CodecError(.unexpectedShape, "a broadcast packet carries a JSON array")
        }
        if let sharded {
            try publishShardedBroadcast(
                namespace: namespace,
                packet: packet,
                data: data,
                rooms: rooms,
                except: except,
                flags: flags,
                sharded
            )
            return
        }
        let message = BroadcastMessage(
            uid: uid,
            type: 2,
            data: data,
            namespace: namespace,
            id: packet.id,
            rooms: rooms,
            except: except,
            flags: flags
        )
        let payload = try message.encode(flavor: .notepack3)
        let channel = message.channel(key: configuration.adapterKey).name
        mirror.enqueuePublish(channel: Array(channel.utf8), payload: payload)
    }

    // MARK: Requests

    /// DELIVERED: the sockets a DELIVER_TO_ROOMS with `ackId` reached: the
    /// client count of another server's acked broadcast, or the targets of a
    /// delivery record.
    public func nodeDelivered(ackId: UInt64, namespace: String, socketIds: [String]) {
        let actions = cluster.run(addsDeadline: false) { machines, _ in
            machines.incoming.delivered(ackId: ackId, socketIds: socketIds)
        }
        if !actions.isEmpty {
            perform(actions, flush: true)
            return
        }
        guard let record = awaitingDelivered.take(ackId), !socketIds.isEmpty else { return }
        tracker.dispatched(
            ackId: ackId,
            messageId: record.messageId,
            namespace: record.namespace,
            sockets: socketIds,
            timeoutMilliseconds: record.timeoutMilliseconds
        )
    }

    /// ANSWER: the node's answer to a QUESTION (late ones are ignored).
    public func nodeAnswered(request: UInt32, status: UInt8, body: [UInt8]) {
        // Timed once the answer is queued for Redis; a late answer (busd answered
        // for the node already) is timed too: it shows how slow the node is.
        defer {
            if let waited = QuestionClock.shared.answered(request) {
                LatencyHistograms.shared.requestAnswer.observe(waited)
            }
        }
        perform(
            cluster.run(addsDeadline: false) { machines, _ in
                machines.incoming.answered(request: request, status: status, body: body)
            },
            flush: true
        )
    }

    /// CLUSTER_REQUEST: the node's application calls the cluster. A kind
    /// outside 1...10 is unusable (9: ClusterMember+RoomsSubscribed.swift;
    /// 10 is answered by the connection, ClusterMember+ChannelFilter.swift).
    public func nodeRequested(
        request: UInt32,
        kind: UInt8,
        namespace: String,
        timeoutMilliseconds: UInt32,
        body: [UInt8]
    ) throws(UnusableContent) {
        if kind == Self.roomsSubscribedKind {
            try nodeAwaitsRoomChannels(
                request: request,
                namespace: namespace,
                timeoutMilliseconds: timeoutMilliseconds,
                body: body
            )
            return
        }
        guard let requestKind = ClusterRequestKind(rawValue: kind) else {
            throw UnusableContent("CLUSTER_REQUEST kind \(kind) is not 1 to 10")
        }
        clusterCounters.requestOut(requestKind.label)
        if let refusal = shardedRefusal(request: request, kind: requestKind) {
            perform(refusal, flush: true)
            return
        }
        let actions = cluster.run { machines, now in
            machines.outgoing.request(
                request,
                kind: kind,
                namespace: namespace,
                timeoutMilliseconds: timeoutMilliseconds,
                body: body,
                now: now
            )
        }
        perform(actions, flush: true)
    }

    /// BROADCAST_WITH_ACK: the node's acked broadcast, for the other
    /// servers. A packet that is not a Socket.IO packet busd can decode is
    /// unusable.
    public func nodeBroadcastWithAck(
        request: UInt32,
        namespace: String,
        flags: DeliveryFlags,
        rooms: [Room],
        except: [Room],
        timeoutMilliseconds: UInt32,
        packet: [UInt8],
        attachments: [[UInt8]]
    ) throws(UnusableContent) {
        let decoded: SocketIOPacket
        do {
            decoded = try PacketDecoder.decode(packet, attachments: attachments)
        } catch {
            throw UnusableContent("BROADCAST_WITH_ACK packet: \(error)")
        }
        clusterCounters.requestOut("broadcast_with_ack")
        let flagObject = OutgoingRequests.flags(
            volatile: flags.volatile,
            compress: flags.compress,
            timeoutMilliseconds: timeoutMilliseconds
        )
        let actions = cluster.run { machines, now in
            machines.outgoing.broadcastWithAck(
                request,
                namespace: namespace,
                packet: decoded,
                rooms: rooms,
                except: except,
                flags: flagObject,
                timeoutMilliseconds: timeoutMilliseconds,
                now: now
            )
        }
        perform(actions, flush: true)
    }
}
