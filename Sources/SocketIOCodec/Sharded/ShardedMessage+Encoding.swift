extension ShardedMessage {
    /// The message as the stock sender builds it, keys in its order.
    public var jsValue: JSValue {
        var envelope = JSObject()
        if layout == .redisAdapter82, let uid { envelope["uid"] = .string(uid) }
        envelope["type"] = .number(Double(type.rawValue))
        if let data = dataValue { envelope["data"] = .object(data) }
        if layout == .current {
            if let uid { envelope["uid"] = .string(uid) }
            if let namespace { envelope["nsp"] = .string(namespace) }
        }
        return .object(envelope)
    }

    /// `data` as socket.io-adapter's ClusterAdapter writes it.
    public var dataValue: JSObject? {
        switch body {
        case .initialHeartbeat, .heartbeat, .adapterClose:
            return nil
        case .broadcast(let packet, let requestId, let options):
            var data = JSObject([("packet", .object(packet))])
            if let requestId { data["requestId"] = .string(requestId) }
            data["opts"] = Self.value(options)
            return data
        case .socketsJoin(let options, let rooms), .socketsLeave(let options, let rooms):
            return JSObject([("opts", Self.value(options)), ("rooms", .array(rooms.map(\.jsValue)))])
        case .disconnectSockets(let options, let close):
            return JSObject([("opts", Self.value(options)), ("close", .bool(close))])
        case .fetchSockets(let options, let requestId):
            return JSObject([("opts", Self.value(options)), ("requestId", .string(requestId))])
        case .fetchSocketsResponse(let requestId, let sockets):
            return JSObject([("requestId", .string(requestId)), ("sockets", .array(sockets))])
        case .serverSideEmit(let requestId, let packet):
            var data = JSObject()
            if let requestId { data["requestId"] = .string(requestId) }
            data["packet"] = .array(packet)
            return data
        case .serverSideEmitResponse(let requestId, let packet), .broadcastAck(let requestId, let packet):
            return JSObject([("requestId", .string(requestId)), ("packet", packet)])
        case .broadcastClientCount(let requestId, let clientCount):
            return JSObject([("requestId", .string(requestId)), ("clientCount", .number(Double(clientCount)))])
        }
    }

    public static func value(_ options: Options) -> JSValue {
        var opts = JSObject([("rooms", .array(options.rooms.map(\.jsValue))), ("except", .array(options.except.map(\.jsValue)))])
        if let flags = options.flags { opts["flags"] = .object(flags) }
        return .object(opts)
    }

    /// How the stock encoder picks: msgpack only for the types that may carry
    /// binary when `data` does hold a Buffer or ArrayBuffer, else JSON.
    public var encoding: PayloadEncoding {
        guard type.mayCarryBinary, let data = dataValue, JSValue.object(data).holdsBinary else { return .json }
        return .msgpack
    }

    /// The bytes a stock node publishes for this message.
    public func encode(flavor: NotepackFlavor = .notepack3) throws(CodecError) -> [UInt8] {
        switch encoding {
        case .msgpack:
            return try Notepack.encode(jsValue, flavor: flavor)
        case .json:
            var stringifier = JSONStringifier(binary: .nodeJSON)
            var output: [UInt8] = []
            stringifier.append(jsValue, to: &output)
            return output
        }
    }
}

extension JSValue {
    /// `hasBinary` of @socket.io/redis-adapter: a Buffer or ArrayBuffer anywhere.
    public var holdsBinary: Bool {
        switch self {
        case .buffer, .arrayBuffer: return true
        case .array(let elements): return elements.contains { $0.holdsBinary }
        case .object(let object): return object.properties.contains { $0.value.holdsBinary }
        default: return false
        }
    }
}
