/// A message of socket.io-adapter's ClusterAdapter as @socket.io/redis-adapter's
/// sharded adapter (`createShardedAdapter`, 8.2+) sends it with SPUBLISH:
/// `{type, data, uid, nsp}` (socket.io-adapter 2.5.4+) or `{uid, type, data}`
/// (redis-adapter 8.2.x's own ClusterAdapter), JSON unless `data` holds binary.
///
/// Decoding checks every field the stock receiver reads, so a message this
/// type accepts is one a stock node would act on; encoding writes the keys in
/// the stock order so the bytes match a stock node's.
public struct ShardedMessage: Sendable, Hashable {
    /// The selector of a broadcast or an `opts` request (`{rooms, except, flags}`).
    public struct Options: Sendable, Hashable {
        public var rooms: [Room]
        public var except: [Room]
        /// nil when the sender had none (JSON.stringify then leaves the key out).
        public var flags: JSObject?

        public init(rooms: [Room] = [], except: [Room] = [], flags: JSObject? = JSObject()) {
            self.rooms = rooms
            self.except = except
            self.flags = flags
        }
    }

    public enum Body: Sendable, Hashable {
        case initialHeartbeat
        case heartbeat
        /// `packet` has no `nsp` on the wire; `requestId` set for an acked broadcast.
        case broadcast(packet: JSObject, requestId: String?, options: Options)
        case socketsJoin(options: Options, rooms: [Room])
        case socketsLeave(options: Options, rooms: [Room])
        case disconnectSockets(options: Options, close: Bool)
        case fetchSockets(options: Options, requestId: String)
        case fetchSocketsResponse(requestId: String, sockets: [JSValue])
        /// `packet` is `[event, ...args]`; `requestId` set when acks are expected.
        case serverSideEmit(requestId: String?, packet: [JSValue])
        /// The first argument of the handler's ack (absent: `.undefined`).
        case serverSideEmitResponse(requestId: String, packet: JSValue)
        case broadcastClientCount(requestId: String, clientCount: Int)
        case broadcastAck(requestId: String, packet: JSValue)
        case adapterClose
    }

    /// The key order of the envelope.
    public enum Layout: Sendable, Hashable {
        /// socket.io-adapter 2.5.4+: `{type, data, uid, nsp}`.
        case current
        /// redis-adapter 8.2.x: `{uid, type, data}`, no `nsp`.
        case redisAdapter82
    }

    public var body: Body
    /// The sender's uid (16 hex characters from a stock node); nil when absent.
    public var uid: String?
    /// nil in the 8.2.x layout.
    public var namespace: String?
    public var layout: Layout

    public init(_ body: Body, uid: String?, namespace: String?, layout: Layout = .current) {
        self.body = body
        self.uid = uid
        self.namespace = namespace
        self.layout = layout
    }

    public var type: ShardedMessageType {
        switch body {
        case .initialHeartbeat: return .initialHeartbeat
        case .heartbeat: return .heartbeat
        case .broadcast: return .broadcast
        case .socketsJoin: return .socketsJoin
        case .socketsLeave: return .socketsLeave
        case .disconnectSockets: return .disconnectSockets
        case .fetchSockets: return .fetchSockets
        case .fetchSocketsResponse: return .fetchSocketsResponse
        case .serverSideEmit: return .serverSideEmit
        case .serverSideEmitResponse: return .serverSideEmitResponse
        case .broadcastClientCount: return .broadcastClientCount
        case .broadcastAck: return .broadcastAck
        case .adapterClose: return .adapterClose
        }
    }

    /// The request id of a request or response, nil for the others.
    public var requestId: String? {
        switch body {
        case .broadcast(_, let id, _), .serverSideEmit(let id, _): return id
        case .fetchSockets(_, let id), .fetchSocketsResponse(let id, _), .serverSideEmitResponse(let id, _),
            .broadcastClientCount(let id, _), .broadcastAck(let id, _):
            return id
        default: return nil
        }
    }

    /// Whether the stock receiver hands it to `onResponse` (types 8, 10, 11, 12).
    public var isResponse: Bool { type.isResponse }
}

/// socket.io-adapter's `MessageType`.
public enum ShardedMessageType: Int, Sendable, Hashable, CaseIterable {
    case initialHeartbeat = 1
    case heartbeat = 2
    case broadcast = 3
    case socketsJoin = 4
    case socketsLeave = 5
    case disconnectSockets = 6
    case fetchSockets = 7
    case fetchSocketsResponse = 8
    case serverSideEmit = 9
    case serverSideEmitResponse = 10
    case broadcastClientCount = 11
    case broadcastAck = 12
    case adapterClose = 13

    public var isResponse: Bool {
        switch self {
        case .fetchSocketsResponse, .serverSideEmitResponse, .broadcastClientCount, .broadcastAck: return true
        default: return false
        }
    }

    /// Types whose data the stock encoder checks for binary (then msgpack).
    public var mayCarryBinary: Bool {
        switch self {
        case .broadcast, .broadcastAck, .fetchSocketsResponse, .serverSideEmit, .serverSideEmitResponse: return true
        default: return false
        }
    }

    /// The name in socket.io-adapter's source (a metric label in lower case).
    public var name: String {
        switch self {
        case .initialHeartbeat: return "INITIAL_HEARTBEAT"
        case .heartbeat: return "HEARTBEAT"
        case .broadcast: return "BROADCAST"
        case .socketsJoin: return "SOCKETS_JOIN"
        case .socketsLeave: return "SOCKETS_LEAVE"
        case .disconnectSockets: return "DISCONNECT_SOCKETS"
        case .fetchSockets: return "FETCH_SOCKETS"
        case .fetchSocketsResponse: return "FETCH_SOCKETS_RESPONSE"
        case .serverSideEmit: return "SERVER_SIDE_EMIT"
        case .serverSideEmitResponse: return "SERVER_SIDE_EMIT_RESPONSE"
        case .broadcastClientCount: return "BROADCAST_CLIENT_COUNT"
        case .broadcastAck: return "BROADCAST_ACK"
        case .adapterClose: return "ADAPTER_CLOSE"
        }
    }
}
