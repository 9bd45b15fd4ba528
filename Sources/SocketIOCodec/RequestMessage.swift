/// How a request or response was encoded: adapters from 7.2.0 put JSON and
/// msgpack on the same channel and tell them apart by the first byte (`{`).
public enum PayloadEncoding: String, Sendable, Hashable {
    case json
    case msgpack

    public static func sniff(_ payload: [UInt8]) -> PayloadEncoding {
        payload.first == UInt8(ascii: "{") ? .json : .msgpack
    }
}

/// Which request numbering a message uses.
public enum RequestGeneration: String, Sendable, Hashable {
    /// socket.io-redis 2.x–5.x: JSON, `requestid`, types clients=0 … remoteDisconnect=6.
    case legacy
    /// socket.io-redis 6.x, @socket.io/redis-adapter 7.x–8.x and the emitters
    /// 4.x+: `requestId`, types SOCKETS=0 … BROADCAST_ACK=9.
    case modern
}

/// Which sockets a remote join/leave/disconnect applies to.
public enum RequestTarget: Sendable, Hashable {
    /// One socket by id (the legacy `sid` form).
    case socket(String)
    /// Every socket in `rooms` (all when empty) minus those in `except`
    /// (the `opts` form of socketsJoin/socketsLeave/disconnectSockets).
    case selector(rooms: [Room], except: [Room])
}

/// A message on `<key>-request#<nsp>#`.
public struct RequestMessage: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Modern 0: socket ids in rooms.
        case sockets(rooms: [Room])
        /// Modern 1, legacy 2.
        case allRooms
        /// Modern 2 / legacy 3; `requestId` is set only for the legacy `sid` form.
        case remoteJoin(RequestTarget, rooms: [Room])
        /// Modern 3 / legacy 4.
        case remoteLeave(RequestTarget, rooms: [Room])
        /// Modern 4 / legacy 6.
        case remoteDisconnect(RequestTarget, close: Bool)
        /// Modern 5: fetchSockets.
        case remoteFetch(rooms: [Room], except: [Room])
        /// Modern 6: `[event, ...args]`; expects replies when `requestId` is set.
        case serverSideEmit(data: [JSValue])
        /// Modern 7: broadcast with acknowledgements (msgpack).
        case broadcast(BroadcastMessage)
        /// Legacy 0: clients in rooms.
        case clients(rooms: [Room])
        /// Legacy 1: rooms of one socket.
        case clientRooms(socket: String)
        /// Legacy 5: customRequest / customHook.
        case customRequest(data: JSValue)
        /// A type this codec does not know; the raw message is in `value`.
        case unknown(type: Int)
    }

    public var generation: RequestGeneration
    public var encoding: PayloadEncoding
    public var type: Int
    /// The requesting adapter's uid (7.1.0+; `"emitter"` for some emitter requests).
    public var uid: String?
    public var requestId: String?
    public var kind: Kind
    /// The whole message as decoded.
    public var value: JSValue

    /// Interprets a decoded request.
    public init(_ value: JSValue, encoding: PayloadEncoding) throws(CodecError) {
        guard case .object(let object) = value else {
            throw CodecError(.unexpectedShape, "a request is an object; got \(value)")
        }
        guard case .number(let typeNumber) = object["type"], typeNumber.rounded(.towardZero) == typeNumber,
            abs(typeNumber) < 1e6
        else {
            throw CodecError(.unexpectedShape, "request without an integer 'type'")
        }
        let type = Int(typeNumber)
        let legacy = object["requestid"] != nil
        self.value = value
        self.encoding = encoding
        self.type = type
        self.generation = legacy ? .legacy : .modern
        self.uid = object["uid"]?.stringValue
        self.requestId = (legacy ? object["requestid"] : object["requestId"])?.stringValue
        self.kind = legacy ? try Self.legacyKind(type, object) : try Self.modernKind(type, object)
    }

    private static func rooms(_ value: JSValue?, _ field: String) throws(CodecError) -> [Room] {
        guard let value else { return [] }
        guard let array = value.arrayValue else {
            throw CodecError(.unexpectedShape, "'\(field)' is not an array")
        }
        var rooms: [Room] = []
        for element in array {
            guard let room = Room(element) else { throw CodecError(.unexpectedShape, "'\(field)' holds \(element)") }
            rooms.append(room)
        }
        return rooms
    }

    private static func string(_ value: JSValue?, _ field: String) throws(CodecError) -> String {
        guard let s = value?.stringValue else { throw CodecError(.unexpectedShape, "'\(field)' is not a string") }
        return s
    }

    private static func target(_ object: JSObject) throws(CodecError) -> RequestTarget {
        if let opts = object["opts"] {
            return .selector(rooms: try rooms(opts["rooms"], "opts.rooms"), except: try rooms(opts["except"], "opts.except"))
        }
        return .socket(try string(object["sid"], "sid"))
    }

    /// Rooms of a join/leave: `rooms` (opts form) or the single `room` (sid form).
    private static func joinRooms(_ object: JSObject) throws(CodecError) -> [Room] {
        if object["opts"] != nil { return try rooms(object["rooms"], "rooms") }
        guard let room = object["room"].flatMap(Room.init) else {
            throw CodecError(.unexpectedShape, "'room' is not a string or number")
        }
        return [room]
    }

    private static func modernKind(_ type: Int, _ object: JSObject) throws(CodecError) -> Kind {
        switch type {
        case 0: return .sockets(rooms: try rooms(object["rooms"], "rooms"))
        case 1: return .allRooms
        case 2: return .remoteJoin(try target(object), rooms: try joinRooms(object))
        case 3: return .remoteLeave(try target(object), rooms: try joinRooms(object))
        case 4: return .remoteDisconnect(try target(object), close: object["close"] == .bool(true))
        case 5:
            let opts = object["opts"]
            return .remoteFetch(rooms: try rooms(opts?["rooms"], "opts.rooms"), except: try rooms(opts?["except"], "opts.except"))
        case 6:
            guard let data = object["data"]?.arrayValue else {
                throw CodecError(.unexpectedShape, "SERVER_SIDE_EMIT without a 'data' array")
            }
            return .serverSideEmit(data: data)
        case 7:
            guard let packet = object["packet"]?.objectValue, let opts = object["opts"]?.objectValue else {
                throw CodecError(.unexpectedShape, "BROADCAST request without 'packet' and 'opts' maps")
            }
            let message = BroadcastMessage(uid: object["uid"]?.stringValue ?? "", packet: packet, options: opts)
            try message.validate()
            return .broadcast(message)
        default:
            return .unknown(type: type)
        }
    }

    private static func legacyKind(_ type: Int, _ object: JSObject) throws(CodecError) -> Kind {
        switch type {
        case 0: return .clients(rooms: try rooms(object["rooms"], "rooms"))
        case 1: return .clientRooms(socket: try string(object["sid"], "sid"))
        case 2: return .allRooms
        case 3: return .remoteJoin(.socket(try string(object["sid"], "sid")), rooms: try joinRooms(object))
        case 4: return .remoteLeave(.socket(try string(object["sid"], "sid")), rooms: try joinRooms(object))
        case 5: return .customRequest(data: object["data"] ?? .undefined)
        case 6: return .remoteDisconnect(.socket(try string(object["sid"], "sid")), close: object["close"] == .bool(true))
        default: return .unknown(type: type)
        }
    }

    /// The request's type name, as the adapter's source calls it.
    public var typeName: String {
        switch kind {
        case .sockets: return "SOCKETS"
        case .allRooms: return generation == .legacy ? "allRooms" : "ALL_ROOMS"
        case .remoteJoin: return generation == .legacy ? "remoteJoin" : "REMOTE_JOIN"
        case .remoteLeave: return generation == .legacy ? "remoteLeave" : "REMOTE_LEAVE"
        case .remoteDisconnect: return generation == .legacy ? "remoteDisconnect" : "REMOTE_DISCONNECT"
        case .remoteFetch: return "REMOTE_FETCH"
        case .serverSideEmit: return "SERVER_SIDE_EMIT"
        case .broadcast: return "BROADCAST"
        case .clients: return "clients"
        case .clientRooms: return "clientRooms"
        case .customRequest: return "customRequest"
        case .unknown(let type): return "unknown type \(type)"
        }
    }
}
