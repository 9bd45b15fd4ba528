public import SocketIOCodec

/// The sharded adapter's wire form beside the classic one: the request state
/// machines (``IncomingRequests``, ``OutgoingRequests``) keep speaking the
/// classic adapter's messages, and this translates at their edge.
///
/// - In: a ClusterAdapter request becomes the classic ``RequestMessage`` it
///   stands for, and a response to busd's request a classic ``ResponseMessage``.
/// - Out: what the machines publish on `<key>-request#<nsp>#` becomes the
///   ClusterAdapter request on the sharded channel, and what they publish on
///   `<key>-response#<nsp>#` the ClusterAdapter response on the requester's
///   own channel `<prefix>#<nsp>#<requester uid>#` (remembered by requestId
///   when the request came in: classic responses do not name the requester).
///
/// A value type without I/O; times are milliseconds on the caller's clock.
public struct ShardedWire: Sendable {
    public let channels: ShardedChannels
    /// The channels the machines were given (their `key`).
    public let classic: ClusterChannels
    /// busd's ClusterAdapter uid (16 hex characters, as a stock node's).
    public let uid: String
    /// How long a requester is remembered: answers to an acked broadcast
    /// keep coming until its time-out.
    public var retentionMilliseconds: UInt64 = 60_000
    var requesters: [String: (uid: String, expiry: UInt64)] = [:]
    private var lastPurge: UInt64 = 0

    public init(channels: ShardedChannels, classic: ClusterChannels, uid: String) {
        self.channels = channels
        self.classic = classic
        self.uid = uid
    }

    /// Requesters remembered (for tests and a gauge).
    public var rememberedRequesters: Int { requesters.count }

    // MARK: In

    /// The classic request a ClusterAdapter request stands for, nil for
    /// responses and heartbeats. `namespace` is the channel's.
    public mutating func request(_ message: ShardedMessage, namespace: String, now: UInt64) -> RequestMessage? {
        var object = JSObject()
        object["uid"] = message.uid.map(JSValue.string) ?? .undefined
        let requestId = message.requestId
        if let requestId { object["requestId"] = .string(requestId) }
        let encoding: PayloadEncoding
        switch message.body {
        case .broadcast(var packet, .some, let options):
            // Only acked broadcasts are requests; the packet gets its namespace back.
            if packet["nsp"] == nil { packet["nsp"] = .string(namespace) }
            object["type"] = .number(7)
            object["packet"] = .object(packet)
            object["opts"] = ShardedMessage.value(options)
            encoding = .msgpack
        case .socketsJoin(let options, let rooms), .socketsLeave(let options, let rooms):
            object["type"] = .number(message.type == .socketsJoin ? 2 : 3)
            object["opts"] = selector(options)
            object["rooms"] = .array(rooms.map(\.jsValue))
            encoding = .json
        case .disconnectSockets(let options, let close):
            object["type"] = .number(4)
            object["opts"] = selector(options)
            object["close"] = .bool(close)
            encoding = .json
        case .fetchSockets(let options, _):
            object["type"] = .number(5)
            object["opts"] = selector(options)
            encoding = .json
        case .serverSideEmit(_, let packet):
            object["type"] = .number(6)
            object["data"] = .array(packet)
            encoding = .json
        default:
            return nil
        }
        guard let request = try? RequestMessage(.object(object), encoding: encoding) else { return nil }
        if let requestId, let requester = message.uid {
            purge(now)
            requesters[requestId] = (requester, now &+ retentionMilliseconds)
        }
        return request
    }

    private func selector(_ options: ShardedMessage.Options) -> JSValue {
        .object(JSObject([("rooms", .array(options.rooms.map(\.jsValue))), ("except", .array(options.except.map(\.jsValue)))]))
    }

    /// The classic response a ClusterAdapter response stands for (to feed
    /// ``OutgoingRequests/response(_:)``), nil for anything else.
    public func response(_ message: ShardedMessage) -> ResponseMessage? {
        var object = JSObject()
        let encoding: PayloadEncoding
        switch message.body {
        case .fetchSocketsResponse(let requestId, let sockets):
            object["requestId"] = .string(requestId)
            object["sockets"] = .array(sockets)
            encoding = .json
        case .serverSideEmitResponse(let requestId, let packet):
            object["type"] = .number(6)
            object["requestId"] = .string(requestId)
            object["data"] = packet
            encoding = .json
        case .broadcastClientCount(let requestId, let count):
            object["type"] = .number(8)
            object["requestId"] = .string(requestId)
            object["clientCount"] = .number(Double(count))
            encoding = .json
        case .broadcastAck(let requestId, let packet):
            object["type"] = .number(9)
            object["requestId"] = .string(requestId)
            object["packet"] = packet
            encoding = .msgpack
        default:
            return nil
        }
        return try? ResponseMessage(.object(object), encoding: encoding)
    }

    // MARK: Out

    /// What a machine's PUBLISH becomes: the sharded channel and payload, or
    /// nil when it has no sharded form (ALL_ROOMS, SOCKETS, the legacy
    /// forms) or answers a requester busd does not know.
    public mutating func publish(channel: String, payload: [UInt8], now: UInt64) -> (channel: String, payload: [UInt8])? {
        if let adapterChannel = try? AdapterChannel(parsing: channel, key: classic.key) {
            switch adapterChannel {
            case .request(_, let namespace):
                return outgoingRequest(payload, namespace: namespace)
            case .response(_, let namespace, _):
                return outgoingResponse(payload, namespace: namespace, now: now)
            case .broadcast:
                return nil
            }
        }
        return nil
    }

    private func outgoingRequest(_ payload: [UInt8], namespace: String) -> (channel: String, payload: [UInt8])? {
        guard case .request(let request)? = try? AdapterMessage.decode(payload, channel: .request(key: classic.key, namespace: namespace)),
            request.generation == .modern
        else { return nil }
        let body: ShardedMessage.Body
        switch request.kind {
        case .remoteJoin(.selector(let rooms, let except), let joined):
            body = .socketsJoin(options: .init(rooms: rooms, except: except), rooms: joined)
        case .remoteLeave(.selector(let rooms, let except), let left):
            body = .socketsLeave(options: .init(rooms: rooms, except: except), rooms: left)
        case .remoteDisconnect(.selector(let rooms, let except), let close):
            body = .disconnectSockets(options: .init(rooms: rooms, except: except), close: close)
        case .remoteFetch(let rooms, let except):
            guard let requestId = request.requestId else { return nil }
            body = .fetchSockets(options: .init(rooms: rooms, except: except), requestId: requestId)
        case .serverSideEmit(let data):
            body = .serverSideEmit(requestId: request.requestId, packet: data)
        case .broadcast(let message):
            guard let requestId = request.requestId else { return nil }
            // The ClusterAdapter publishes the packet before the namespace is set on it.
            var packet = message.packet
            packet["nsp"] = nil
            let options = ShardedMessage.Options(rooms: message.rooms, except: message.except ?? [], flags: message.flags)
            body = .broadcast(packet: packet, requestId: requestId, options: options)
        default:
            return nil
        }
        let sharded = ShardedMessage(body, uid: uid, namespace: namespace)
        guard let bytes = try? sharded.encode() else { return nil }
        return (channels.channel(for: sharded, namespace: namespace), bytes)
    }

    private mutating func outgoingResponse(_ payload: [UInt8], namespace: String, now: UInt64) -> (channel: String, payload: [UInt8])? {
        guard case .response(let response)? = try? AdapterMessage.decode(payload, channel: .response(key: classic.key, namespace: namespace, uid: nil)),
            let requestId = response.requestId, let requester = requesters[requestId]?.uid
        else { return nil }
        let body: ShardedMessage.Body
        switch response.kind {
        case .fetchedSockets(let sockets):
            requesters[requestId] = nil
            body = .fetchSocketsResponse(requestId: requestId, sockets: sockets)
        case .serverSideEmit(let value):
            requesters[requestId] = nil
            body = .serverSideEmitResponse(requestId: requestId, packet: value)
        case .broadcastClientCount(let count):
            body = .broadcastClientCount(requestId: requestId, clientCount: count)
        case .broadcastAck(let value):
            body = .broadcastAck(requestId: requestId, packet: value)
        default:
            return nil
        }
        let sharded = ShardedMessage(body, uid: uid, namespace: namespace)
        guard let bytes = try? sharded.encode() else { return nil }
        return (channels.responses(namespace, uid: requester), bytes)
    }

    /// Forgets requesters past their retention, at most once a second.
    private mutating func purge(_ now: UInt64) {
        guard now >= lastPurge &+ 1000 || requesters.count > 100_000 else { return }
        lastPurge = now
        requesters = requesters.filter { $0.value.expiry > now }
    }

    /// A ClusterAdapter uid: 16 hex characters, as `randomBytes(8).toString("hex")`.
    public static func randomUid() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
