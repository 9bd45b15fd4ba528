public import SocketIOCodec

/// What busd asks its node to do (carried over the local socket to the
/// connector; see the local protocol).
public enum NodeCommand: Sendable, Hashable {
    /// Write this pre-encoded packet (and attachments) to each socket; when
    /// `ackId` is not 0 it is already in the packet, and the node registers
    /// it in each socket's ack table.
    case deliver(
        namespace: String,
        socketIds: [String],
        ackId: UInt64,
        packet: [UInt8],
        attachments: [[UInt8]],
        volatile: Bool,
        compress: Bool?
    )
    /// socketsJoin from another process.
    case join(namespace: String, socketIds: [String], rooms: [String])
    /// socketsLeave from another process.
    case leave(namespace: String, socketIds: [String], rooms: [String])
    /// disconnectSockets from another process.
    case disconnect(namespace: String, socketIds: [String], close: Bool)
    /// serverSideEmit from another process: `[event, ...args]`.
    case serverSideEmit(namespace: String, data: [JSValue])

    // Version 2 of the local protocol only (a version 1 node never gets these).

    /// A broadcast for the node to deliver to its own sockets chosen by its
    /// own rooms (DELIVER_TO_ROOMS); when `ackId` is not 0 it is already in
    /// the packet and the node answers with the sockets it wrote to.
    case deliverToRooms(
        namespace: String,
        rooms: [Room],
        except: [Room],
        ackId: UInt64,
        packet: [UInt8],
        attachments: [[UInt8]],
        volatile: Bool,
        compress: Bool?
    )
    /// socketsJoin / socketsLeave / disconnectSockets for the node to apply
    /// to its sockets chosen by its own rooms (APPLY).
    case apply(namespace: String, rooms: [Room], except: [Room], action: NodeApplyAction)
    /// Asks the node what only it knows (QUESTION); `body` is JSON text.
    case question(request: UInt32, kind: UInt8, namespace: String, body: [UInt8])
    /// The cluster's answer to one of the node's requests (CLUSTER_REPLY);
    /// `body` is JSON text.
    case clusterReply(request: UInt32, status: UInt8, body: [UInt8])
    /// One server's client count for the node's acked broadcast (ACK_COUNT).
    case ackCount(request: UInt32, clientCount: UInt32)
    /// One client's first ack argument for the node's acked broadcast, as
    /// JSON text (ACK_ARGUMENT).
    case ackArgument(request: UInt32, argument: [UInt8])

    /// True for the frames that ask the node one question or answer one of
    /// its requests (QUESTION, CLUSTER_REPLY, ACK_COUNT, ACK_ARGUMENT): one
    /// session gets them, the newest, so that a connector that reconnected
    /// while its old connection lingers neither answers twice nor hears a
    /// reply twice.
    public var isForOneSession: Bool {
        switch self {
        case .question, .clusterReply, .ackCount, .ackArgument:
            return true
        case .deliver, .join, .leave, .disconnect, .serverSideEmit, .deliverToRooms, .apply:
            return false
        }
    }

    /// True for the commands only a version 2 session can carry.
    public var needsVersion2: Bool {
        switch self {
        case .deliver, .join, .leave, .disconnect, .serverSideEmit:
            return false
        case .deliverToRooms, .apply, .question, .clusterReply, .ackCount, .ackArgument:
            return true
        }
    }
}

/// What an APPLY does to the sockets it chooses.
public enum NodeApplyAction: Sendable, Hashable {
    case join([Room])
    case leave([Room])
    case disconnect(close: Bool)
}
