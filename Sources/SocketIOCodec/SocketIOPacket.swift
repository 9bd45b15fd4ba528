/// A Socket.IO packet as socket.io-parser's encoder receives it.
public struct SocketIOPacket: Sendable, Hashable {
    /// Packet types of the Socket.IO protocol (v4 and v5 share the numbers;
    /// 4 is ERROR in v4 and CONNECT_ERROR in v5).
    public enum PacketType: Int, Sendable, Hashable, CaseIterable {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    /// The numeric type as sent (kept raw: the encoder writes whatever it gets).
    public var type: Int
    public var namespace: String
    /// The ack id, a JavaScript number; nil when absent.
    public var id: Double?
    /// The payload; nil when absent (`undefined` or `null` are also omitted).
    public var data: JSValue?

    public init(type: Int, namespace: String = "/", id: Double? = nil, data: JSValue?) {
        self.type = type
        self.namespace = namespace
        self.id = id
        self.data = data
    }

    public init(type: PacketType, namespace: String = "/", id: Double? = nil, data: JSValue?) {
        self.init(type: type.rawValue, namespace: namespace, id: id, data: data)
    }

    public var packetType: PacketType? { PacketType(rawValue: type) }
}

/// The text of an encoded packet and its binary attachments, in the order
/// the client receives them (one engine.io message each).
public struct EncodedPacket: Sendable, Hashable {
    /// UTF-8 of the packet string, without engine.io's `4` message prefix.
    public var text: [UInt8]
    public var attachments: [[UInt8]]

    public init(text: [UInt8], attachments: [[UInt8]] = []) {
        self.text = text
        self.attachments = attachments
    }

    public var string: String { String(decoding: text, as: UTF8.self) }
}
