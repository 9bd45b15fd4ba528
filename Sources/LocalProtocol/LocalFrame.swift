/// The frames of the local protocol between busd and its node's connector
/// (`docs/local-protocol.md` is the reference for version 1,
/// `docs/local-protocol-v2.md` for the frames version 2 adds; both show a hex
/// dump of each).
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
    case broadcast(
        namespace: String,
        flags: DeliveryFlags,
        rooms: [String],
        except: [String],
        packet: [UInt8],
        attachments: [[UInt8]]
    )

    /// busd → node: write `packet` (and its attachments) as is to each
    /// socket; when `ackId` is not 0, register it in each socket's ack table.
    case deliver(
        ackId: UInt64,
        flags: DeliveryFlags,
        namespace: String,
        socketIds: [String],
        packet: [UInt8],
        attachments: [[UInt8]]
    )
    /// node → busd: what became of an injected ack id for one socket;
    /// `arguments` is the JSON array of the client's ack arguments.
    case acked(ackId: UInt64, socketId: String, status: AckStatus, arguments: [UInt8])
    /// busd → node: requests from other processes (socketsJoin, ...).
    case socketsJoin(namespace: String, socketIds: [String], rooms: [String])
    case socketsLeave(namespace: String, socketIds: [String], rooms: [String])
    case socketsDisconnect(namespace: String, socketIds: [String], close: Bool)
    /// busd → node: serverSideEmit; `data` is the JSON array `[event, ...args]`.
    case serverSideEmit(namespace: String, data: [UInt8])

    // MARK: Version 2, node → busd

    /// The node serves this namespace (sent for each, before its sockets).
    case namespace(String)
    /// As SOCKET_JOIN / SOCKET_LEAVE, with typed rooms.
    case roomsJoin(namespace: String, socketId: String, rooms: [LocalRoom])
    case roomsLeave(namespace: String, socketId: String, rooms: [LocalRoom])
    /// As BROADCAST, with typed rooms.
    case roomsBroadcast(
        namespace: String,
        flags: DeliveryFlags,
        rooms: [LocalRoom],
        except: [LocalRoom],
        packet: [UInt8],
        attachments: [[UInt8]]
    )
    /// The sockets a DELIVER_TO_ROOMS with an ack id was written to.
    case delivered(ackId: UInt64, namespace: String, socketIds: [String])
    /// The node's answer to a QUESTION; `body` is JSON (status 0 answered,
    /// 1 cannot answer).
    case answer(request: UInt32, status: UInt8, body: [UInt8])
    /// The node's application calls the cluster; `body` is JSON.
    case clusterRequest(request: UInt32, kind: UInt8, namespace: String, timeoutMilliseconds: UInt32, body: [UInt8])
    /// An acked broadcast of the node's application, for the other servers.
    case broadcastWithAck(
        request: UInt32,
        namespace: String,
        flags: DeliveryFlags,
        rooms: [LocalRoom],
        except: [LocalRoom],
        timeoutMilliseconds: UInt32,
        packet: [UInt8],
        attachments: [[UInt8]]
    )

    // MARK: Version 2, busd → node

    /// A broadcast for the node to deliver to its own sockets chosen by its
    /// own rooms; when `ackId` is not 0 it is in the packet and the node
    /// answers DELIVERED.
    case deliverToRooms(
        ackId: UInt64,
        flags: DeliveryFlags,
        namespace: String,
        rooms: [LocalRoom],
        except: [LocalRoom],
        packet: [UInt8],
        attachments: [[UInt8]]
    )
    /// socketsJoin / socketsLeave / disconnectSockets, applied by the node to
    /// its sockets chosen by its own rooms.
    case apply(
        op: ApplyOperation,
        namespace: String,
        rooms: [LocalRoom],
        except: [LocalRoom],
        targets: [LocalRoom],
        close: Bool
    )
    /// What only the node knows (`kind` 1 FETCH, 2 SERVER_SIDE_EMIT with ack, 3 CUSTOM); `body` is JSON.
    case question(request: UInt32, kind: UInt8, namespace: String, body: [UInt8])
    /// The cluster's answer to a CLUSTER_REQUEST (status 0 complete, 1 timed
    /// out with a partial result, 2 failed); `body` is JSON.
    case clusterReply(request: UInt32, status: UInt8, body: [UInt8])
    /// An acked broadcast: one other server's BROADCAST_CLIENT_COUNT.
    case ackCount(request: UInt32, clientCount: UInt32)
    /// An acked broadcast: one client's first ack argument, as JSON.
    case ackArgument(request: UInt32, argument: [UInt8])

    /// The highest version busd speaks; it speaks every version from 1.
    public static let version: UInt16 = 2
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
    // Version 2.
    case namespace = 0x15, roomsJoin = 0x16, roomsLeave = 0x17, roomsBroadcast = 0x18, delivered = 0x19
    case answer = 0x1A, clusterRequest = 0x1B, broadcastWithAck = 0x1C
    case deliverToRooms = 0x26, apply = 0x27, question = 0x28, clusterReply = 0x29, ackCount = 0x2A
    case ackArgument = 0x2B
}

extension LocalFrame {
    /// The lowest protocol version that has this frame: a frame of version 2
    /// on a version 1 session is unexpected.
    public var minimumVersion: UInt16 {
        switch self {
        case .hello, .welcome, .error, .ping, .pong, .socketConnect, .socketDisconnect, .socketJoin, .socketLeave,
            .broadcast, .deliver, .acked, .socketsJoin, .socketsLeave, .socketsDisconnect, .serverSideEmit:
            return 1
        case .namespace, .roomsJoin, .roomsLeave, .roomsBroadcast, .delivered, .answer, .clusterRequest,
            .broadcastWithAck, .deliverToRooms, .apply, .question, .clusterReply, .ackCount, .ackArgument:
            return 2
        }
    }
}
