public import MsgPack

extension ShardedMessage {
    /// Decodes a payload read on a sharded channel: JSON when it starts with
    /// `{` (as the stock receiver sniffs), else notepack msgpack.
    public static func decode(
        _ payload: [UInt8],
        flavor: NotepackFlavor = .notepack3,
        reader: MsgPackReader = MsgPackReader()
    ) throws(CodecError) -> ShardedMessage {
        guard !payload.isEmpty else { throw CodecError(.unexpectedShape, offset: 0, "empty payload") }
        let encoding = PayloadEncoding.sniff(payload)
        let value = try AdapterMessage.decodeValue(payload, encoding: encoding, flavor: flavor, reader: reader)
        return try ShardedMessage(value)
    }

    /// Interprets a decoded message.
    public init(_ value: JSValue) throws(CodecError) {
        guard case .object(let object) = value else {
            throw CodecError(.unexpectedShape, "a ClusterAdapter message is an object; got \(value)")
        }
        guard case .number(let number)? = object["type"], let type = ShardedMessageType(rawValue: Self.integer(number))
        else {
            throw CodecError(.unexpectedShape, "'type' is \(object["type"].map { "\($0)" } ?? "missing"), not 1…13")
        }
        let uid = try Self.optionalString(object["uid"], "uid")
        let namespace = try Self.optionalString(object["nsp"], "nsp")
        let layout: Layout = object.properties.first?.key == "uid" ? .redisAdapter82 : .current
        self.init(try Self.body(type, object["data"]), uid: uid, namespace: namespace, layout: layout)
    }

    private static func integer(_ number: Double) -> Int {
        guard number.rounded(.towardZero) == number, abs(number) < 1e6 else { return -1 }
        return Int(number)
    }

    private static func body(_ type: ShardedMessageType, _ data: JSValue?) throws(CodecError) -> Body {
        switch type {
        case .initialHeartbeat: return .initialHeartbeat
        case .heartbeat: return .heartbeat
        case .adapterClose: return .adapterClose
        default: break
        }
        guard case .object(let data)? = data else {
            throw CodecError(.unexpectedShape, "\(type.name) without a 'data' object")
        }
        switch type {
        case .broadcast:
            guard case .object(let packet)? = data["packet"] else {
                throw CodecError(.unexpectedShape, "BROADCAST without a 'packet' object")
            }
            let check = BroadcastMessage(uid: "", packet: packet, options: JSObject())
            try check.validate()
            return .broadcast(
                packet: packet,
                requestId: try optionalString(data["requestId"], "requestId"),
                options: try options(data["opts"])
            )
        case .socketsJoin:
            return .socketsJoin(options: try options(data["opts"]), rooms: try rooms(data["rooms"], "rooms"))
        case .socketsLeave:
            return .socketsLeave(options: try options(data["opts"]), rooms: try rooms(data["rooms"], "rooms"))
        case .disconnectSockets:
            return .disconnectSockets(options: try options(data["opts"]), close: data["close"] == .bool(true))
        case .fetchSockets:
            return .fetchSockets(options: try options(data["opts"]), requestId: try requestId(data))
        case .fetchSocketsResponse:
            guard case .array(let sockets)? = data["sockets"] else {
                throw CodecError(.unexpectedShape, "FETCH_SOCKETS_RESPONSE without a 'sockets' array")
            }
            return .fetchSocketsResponse(requestId: try requestId(data), sockets: sockets)
        case .serverSideEmit:
            guard case .array(let packet)? = data["packet"] else {
                throw CodecError(.unexpectedShape, "SERVER_SIDE_EMIT without a 'packet' array")
            }
            return .serverSideEmit(requestId: try optionalString(data["requestId"], "requestId"), packet: packet)
        case .serverSideEmitResponse:
            return .serverSideEmitResponse(requestId: try requestId(data), packet: data["packet"] ?? .undefined)
        case .broadcastClientCount:
            guard case .number(let count)? = data["clientCount"], count >= 0, count < 1e9,
                count.rounded(.towardZero) == count
            else {
                throw CodecError(.unexpectedShape, "BROADCAST_CLIENT_COUNT without an integer 'clientCount'")
            }
            return .broadcastClientCount(requestId: try requestId(data), clientCount: Int(count))
        case .broadcastAck:
            return .broadcastAck(requestId: try requestId(data), packet: data["packet"] ?? .undefined)
        case .initialHeartbeat, .heartbeat, .adapterClose:
            return .heartbeat
        }
    }

    private static func requestId(_ data: JSObject) throws(CodecError) -> String {
        guard let id = try optionalString(data["requestId"], "requestId") else {
            throw CodecError(.unexpectedShape, "no 'requestId'")
        }
        return id
    }

    private static func optionalString(_ value: JSValue?, _ field: String) throws(CodecError) -> String? {
        switch value {
        case nil, .undefined?: return nil
        case .string(let s)?: return s
        default: throw CodecError(.unexpectedShape, "'\(field)' is not a string")
        }
    }

    /// `opts`: the stock receiver makes Sets of `rooms` and `except`, so a
    /// missing one is empty; anything else must be an array of rooms.
    private static func options(_ value: JSValue?) throws(CodecError) -> Options {
        guard case .object(let opts)? = value else { throw CodecError(.unexpectedShape, "'opts' is not an object") }
        var flags: JSObject? = nil
        switch opts["flags"] {
        case nil, .undefined?: flags = nil
        case .object(let object)?: flags = object
        default: throw CodecError(.unexpectedShape, "'opts.flags' is not an object")
        }
        return Options(
            rooms: try rooms(opts["rooms"], "opts.rooms"),
            except: try rooms(opts["except"], "opts.except"),
            flags: flags
        )
    }

    private static func rooms(_ value: JSValue?, _ field: String) throws(CodecError) -> [Room] {
        guard let value, value != .undefined else { return [] }
        guard case .array(let array) = value else { throw CodecError(.unexpectedShape, "'\(field)' is not an array") }
        var rooms: [Room] = []
        rooms.reserveCapacity(array.count)
        for element in array {
            guard let room = Room(element) else { throw CodecError(.unexpectedShape, "'\(field)' holds \(element)") }
            rooms.append(room)
        }
        return rooms
    }
}
