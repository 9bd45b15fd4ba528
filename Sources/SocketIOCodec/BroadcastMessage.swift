public import MsgPack

/// A room name: socket.io accepts strings and numbers (`io.to(42)`), and a
/// JavaScript `Set` keeps `42` and `"42"` apart.
public enum Room: Sendable, Hashable, CustomStringConvertible {
    case name(String)
    case number(Double)

    public var description: String {
        switch self {
        case .name(let s): return s
        case .number(let n): return JSNumberFormatter.string(n)
        }
    }

    /// The text the adapter puts in a room channel name (`String(room)`).
    public var channelText: String { description }

    public var jsValue: JSValue {
        switch self {
        case .name(let s): return .string(s)
        case .number(let n): return .number(n)
        }
    }

    init?(_ value: JSValue) {
        switch value {
        case .string(let s): self = .name(s)
        case .number(let n): self = .number(n)
        default: return nil
        }
    }
}

/// A broadcast on `<key>#<nsp>#[<room>#]`: the msgpack array
/// `[uid, packet, opts]` that adapters and emitters publish.
public struct BroadcastMessage: Sendable, Hashable {
    /// The publishing adapter's id (`uid2(6)`), or `"emitter"`.
    public var uid: String
    /// The packet map: `type`, `data`, `nsp`, sometimes `id`, in sent order.
    public var packet: JSObject
    /// The options map: `rooms`, `except` (absent before socket.io 3 for
    /// namespace emits), `flags`, in sent order.
    public var options: JSObject

    public init(uid: String, packet: JSObject, options: JSObject) {
        self.uid = uid
        self.packet = packet
        self.options = options
    }

    /// A broadcast laid out as @socket.io/redis-adapter 8.x publishes it:
    /// packet `{type, data[, id], nsp}`, options `{rooms, except, flags}`.
    public init(
        uid: String,
        type: Int = 2,
        data: [JSValue],
        namespace: String,
        id: Double? = nil,
        rooms: [Room] = [],
        except: [Room] = [],
        flags: JSObject = JSObject()
    ) {
        var packet = JSObject()
        packet["type"] = .number(Double(type))
        packet["data"] = .array(data)
        if let id { packet["id"] = .number(id) }
        packet["nsp"] = .string(namespace)
        var options = JSObject()
        options["rooms"] = .array(rooms.map(\.jsValue))
        options["except"] = .array(except.map(\.jsValue))
        options["flags"] = .object(flags)
        self.init(uid: uid, packet: packet, options: options)
    }

    // MARK: Typed views

    /// The packet type as a number (2 EVENT, 5 BINARY_EVENT from socket.io 2.x).
    public var packetType: Int? {
        guard case .number(let n) = packet["type"], n.rounded(.towardZero) == n, abs(n) < 1e9 else { return nil }
        return Int(n)
    }

    /// The namespace; a receiving adapter treats a missing `nsp` as "/".
    public var namespace: String { packet["nsp"]?.stringValue ?? "/" }
    public var data: JSValue? { packet["data"] }
    /// An ack id already in the packet (socket.io 4.6+ with connection state recovery).
    public var ackId: Double? { packet["id"]?.numberValue }

    public var rooms: [Room] { (options["rooms"]?.arrayValue ?? []).compactMap(Room.init) }
    /// nil when the producer sent no `except` key (socket.io 2.x namespace emits, emitters ≤ 3.x).
    public var except: [Room]? { options["except"]?.arrayValue.map { $0.compactMap(Room.init) } }
    public var flags: JSObject { options["flags"]?.objectValue ?? JSObject() }
    public var isVolatile: Bool { flags["volatile"] == .bool(true) }
    /// `compress` as sent; nil when unset (the engine then compresses).
    public var compress: Bool? {
        if case .bool(let b) = flags["compress"] { return b }
        return nil
    }

    /// The Socket.IO packet a receiving node encodes (its `nsp` set to the
    /// namespace, as the adapter does before encoding).
    public var socketIOPacket: SocketIOPacket {
        SocketIOPacket(type: packetType ?? 2, namespace: namespace, id: ackId, data: data)
    }

    // MARK: Wire

    /// The whole message as the JavaScript side sees it.
    public var jsValue: JSValue {
        .array([.string(uid), .object(packet), .object(options)])
    }

    /// Decodes a broadcast payload (notepack 3 semantics unless told otherwise).
    public static func decode(
        _ payload: [UInt8],
        flavor: NotepackFlavor = .notepack3,
        reader: MsgPackReader = MsgPackReader()
    ) throws(CodecError) -> BroadcastMessage {
        try reader.withCodecObject(payload) { root throws(CodecError) in try decode(root, flavor: flavor) }
    }

    /// Decodes from a msgpack view.
    public static func decode(_ root: MsgPackObject, flavor: NotepackFlavor = .notepack3) throws(CodecError) -> BroadcastMessage {
        guard root.kind == .array else {
            throw CodecError(.unexpectedShape, offset: 0, "a broadcast is a msgpack array [uid, packet, opts]; got \(root.kind)")
        }
        guard root.count == 3 else {
            throw CodecError(.unexpectedShape, offset: 0, "a broadcast is [uid, packet, opts]; got \(root.count) elements")
        }
        guard let uid = root[0].string else {
            throw CodecError(.unexpectedShape, offset: 1, "uid (element 0) is \(root[0].kind), not a string")
        }
        guard case .object(let packet) = try Notepack.decode(root[1], flavor: flavor) else {
            throw CodecError(.unexpectedShape, "packet (element 1) is \(root[1].kind), not a map")
        }
        guard case .object(let options) = try Notepack.decode(root[2], flavor: flavor) else {
            throw CodecError(.unexpectedShape, "opts (element 2) is \(root[2].kind), not a map")
        }
        let message = BroadcastMessage(uid: uid, packet: packet, options: options)
        try message.validate()
        return message
    }

    /// Checks the fields a receiving adapter relies on.
    public func validate() throws(CodecError) {
        guard packetType != nil else {
            throw CodecError(.unexpectedShape, "packet.type is \(packet["type"].map { "\($0)" } ?? "missing"), not an integer")
        }
        if let nsp = packet["nsp"], nsp.stringValue == nil {
            throw CodecError(.unexpectedShape, "packet.nsp is not a string")
        }
        if let rooms = options["rooms"] {
            guard let array = rooms.arrayValue, array.allSatisfy({ Room($0) != nil }) else {
                throw CodecError(.unexpectedShape, "opts.rooms is not an array of strings and numbers")
            }
        }
        if let except = options["except"] {
            guard let array = except.arrayValue, array.allSatisfy({ Room($0) != nil }) else {
                throw CodecError(.unexpectedShape, "opts.except is not an array of strings and numbers")
            }
        }
        if let flags = options["flags"], flags.objectValue == nil {
            throw CodecError(.unexpectedShape, "opts.flags is not a map")
        }
    }

    /// Encodes the message as its producer would (field order as stored).
    public func encode(flavor: NotepackFlavor = .notepack3) throws(CodecError) -> [UInt8] {
        try Notepack.encode(jsValue, flavor: flavor)
    }

    /// The channel an adapter publishes this on: the room channel when there
    /// is exactly one room, else the namespace channel.
    public func channel(key: String = AdapterChannel.defaultKey) -> AdapterChannel {
        let rooms = self.rooms
        return .broadcast(key: key, namespace: namespace, room: rooms.count == 1 ? rooms[0].channelText : nil)
    }
}
