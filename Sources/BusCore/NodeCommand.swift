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
}
