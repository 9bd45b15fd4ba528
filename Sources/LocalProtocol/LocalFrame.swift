/// The frames of the local protocol between busd and its node's connector
/// (`docs/local-protocol.md` is the reference, with a hex dump of each).
///
/// Every frame is `length:u32be type:u8 body`, where `length` counts the type
/// byte and the body. Integers are big-endian; a string is `u16be` length +
/// UTF-8; a blob is `u32be` length + bytes; a list is `u32be` count + items.
/// The layouts are fixed so that a connector needs no msgpack library.
public enum LocalFrame: Sendable, Hashable {
    /// node → busd, first frame: protocol version, the node's name, its pid.
    case hello(version: UInt16, node: String, pid: UInt32)
    /// busd → node, answer to HELLO: version, busd's adapter uid, the node id
    /// it registers under, the first ack id of busd's reserved range, and how
    /// long busd waits for an injected ack (the connector may forget an ack
    /// id after that).
    case welcome(version: UInt16, uid: String, nodeId: String, ackIdBase: UInt64, ackTimeoutMilliseconds: UInt32)
    /// Either way: why the connection is being closed.
    case error(code: UInt16, message: String)
    case ping(token: UInt64)
    case pong(token: UInt64)

    /// node → busd: a socket connected (time in ms since the epoch).
    case socketConnect(namespace: String, socketId: String, connectedAt: UInt64)
    case socketDisconnect(namespace: String, socketId: String, reason: String)
    case socketJoin(namespace: String, socketId: String, rooms: [String])
    case socketLeave(namespace: String, socketId: String, rooms: [String])
    /// node → busd: one of the node's own broadcasts, as socket.io-parser
    /// encoded it; busd publishes it in the Redis adapter's format.
    case broadcast(namespace: String, flags: DeliveryFlags, rooms: [String], except: [String], packet: [UInt8], attachments: [[UInt8]])

    /// busd → node: write `packet` (and its attachments) as is to each
    /// socket; when `ackId` is not 0, register it in each socket's ack table.
    case deliver(ackId: UInt64, flags: DeliveryFlags, namespace: String, socketIds: [String], packet: [UInt8], attachments: [[UInt8]])
    /// node → busd: what became of an injected ack id for one socket;
    /// `arguments` is the JSON array of the client's ack arguments.
    case acked(ackId: UInt64, socketId: String, status: AckStatus, arguments: [UInt8])
    /// busd → node: requests from other processes (socketsJoin, ...).
    case socketsJoin(namespace: String, socketIds: [String], rooms: [String])
    case socketsLeave(namespace: String, socketIds: [String], rooms: [String])
    case socketsDisconnect(namespace: String, socketIds: [String], close: Bool)
    /// busd → node: serverSideEmit; `data` is the JSON array `[event, ...args]`.
    case serverSideEmit(namespace: String, data: [UInt8])

    public static let version: UInt16 = 1
    /// Largest `length` accepted (type byte + body).
    public static let maximumLength = 16 << 20
}

/// How a DELIVER or BROADCAST is to be written.
public struct DeliveryFlags: Sendable, Hashable {
    public var volatile: Bool
    /// nil: the engine's default (compress).
    public var compress: Bool?

    public init(volatile: Bool = false, compress: Bool? = nil) {
        self.volatile = volatile
        self.compress = compress
    }

    /// bit 0 volatile, bit 1 compress given, bit 2 compress value.
    public var byte: UInt8 {
        (volatile ? 1 : 0) | (compress == nil ? 0 : 2) | (compress == true ? 4 : 0)
    }

    public init(byte: UInt8) {
        volatile = byte & 1 != 0
        compress = byte & 2 != 0 ? byte & 4 != 0 : nil
    }
}

/// The outcome of an injected ack id for one socket.
public enum AckStatus: UInt8, Sendable, Hashable, CaseIterable {
    /// The client called the ack.
    case delivered = 1
    /// The node's ack time-out passed first.
    case timeout = 2
    /// The socket disconnected before acking.
    case disconnected = 3
}

/// Frame type bytes.
enum FrameType: UInt8 {
    case hello = 0x01, welcome = 0x02, error = 0x03, ping = 0x04, pong = 0x05
    case socketConnect = 0x10, socketDisconnect = 0x11, socketJoin = 0x12, socketLeave = 0x13, broadcast = 0x14
    case deliver = 0x20, acked = 0x21, socketsJoin = 0x22, socketsLeave = 0x23, socketsDisconnect = 0x24
    case serverSideEmit = 0x25
}
