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
/// Several of these are stubs until the cluster request protocol is wired in:
/// they log at debug and do nothing (each says so).
extension ClusterMember {
    // MARK: Session

    /// HELLO was answered with `version`: busd speaks that version to the node.
    public func nodeSessionStarted(version: UInt16) {
        nodeProtocolVersion.store(version, ordering: .releasing)
    }

    /// The node's connection ended.
    public func nodeSessionEnded() {
        nodeProtocolVersion.store(0, ordering: .releasing)
    }

    /// The local protocol version of the node's session; 0 while no node is connected.
    public var nodeSessionVersion: UInt16 { nodeProtocolVersion.load(ordering: .acquiring) }

    // MARK: Namespaces and rooms

    /// NAMESPACE: the node serves `namespace`. Subscribes its broadcast
    /// pattern (and the request channel's pattern), as a first socket of a
    /// new namespace does. Not yet: the plain SUBSCRIBE of the request and
    /// response channels that makes `PUBSUB NUMSUB` count busd.
    public func nodeServesNamespace(_ namespace: String) {
        let key = configuration.adapterKey
        subscriber.subscribe([
            AdapterChannel.broadcastPattern(key: key, namespace: namespace),
            AdapterChannel.exactPattern(AdapterChannel.request(key: key, namespace: namespace).name),
        ])
    }

    /// ROOMS_JOIN: the registry keeps rooms by their text (`123` and `"123"`
    /// are one room there); a v2 node's broadcasts are not routed by it.
    public func socketJoined(_ id: String, namespace: String, rooms: [Room]) {
        socketJoined(id, rooms: rooms.map(\.description))
    }

    /// ROOMS_LEAVE, as ``socketJoined(_:namespace:rooms:)``.
    public func socketLeft(_ id: String, namespace: String, rooms: [Room]) {
        socketLeft(id, rooms: rooms.map(\.description))
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

    // MARK: Requests (stubs until the cluster request protocol is wired in)

    /// DELIVERED: the sockets a DELIVER_TO_ROOMS with `ackId` reached.
    /// Stub: logged at debug, nothing else yet.
    public func nodeDelivered(ackId: UInt64, namespace: String, socketIds: [String]) {
        logger.debug(
            "DELIVERED not handled yet",
            metadata: ["ack.id": "\(ackId)", "namespace": "\(namespace)", "sockets": "\(socketIds.count)"]
        )
    }

    /// ANSWER: the node's answer to a QUESTION. Stub: logged at debug, nothing else yet.
    public func nodeAnswered(request: UInt32, status: UInt8, body: [UInt8]) {
        logger.debug(
            "ANSWER not handled yet",
            metadata: ["request": "\(request)", "status": "\(status)", "body.bytes": "\(body.count)"]
        )
    }

    /// CLUSTER_REQUEST: the node's application calls the cluster. A kind
    /// outside 1...8 is unusable. Stub otherwise: logged at debug, not
    /// published, never replied to (the connector's own time-out ends it).
    public func nodeRequested(
        request: UInt32,
        kind: UInt8,
        namespace: String,
        timeoutMilliseconds: UInt32,
        body: [UInt8]
    ) throws(UnusableContent) {
        guard (1...8).contains(kind) else {
            throw UnusableContent("CLUSTER_REQUEST kind \(kind) is not 1 to 8")
        }
        logger.debug(
            "CLUSTER_REQUEST not handled yet",
            metadata: ["request": "\(request)", "kind": "\(kind)", "namespace": "\(namespace)"]
        )
    }

    /// BROADCAST_WITH_ACK: the node's acked broadcast, for the other
    /// servers. A packet that is not a Socket.IO packet busd can decode is
    /// unusable. Stub otherwise: logged at debug, not published.
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
        do {
            _ = try PacketDecoder.decode(packet, attachments: attachments)
        } catch {
            throw UnusableContent("BROADCAST_WITH_ACK packet: \(error)")
        }
        logger.debug(
            "BROADCAST_WITH_ACK not handled yet",
            metadata: ["request": "\(request)", "namespace": "\(namespace)"]
        )
    }
}
