/// A message of socket.io-adapter's ClusterAdapter, as the sharded Redis
/// adapter (8.2+, `SPUBLISH`) sends it: `{type, data, uid, nsp}`, JSON unless
/// the data holds binary.
public struct ClusterMessage: Sendable, Hashable {
    public static let typeNames: [Int: String] = [
        1: "INITIAL_HEARTBEAT", 2: "HEARTBEAT", 3: "BROADCAST", 4: "SOCKETS_JOIN", 5: "SOCKETS_LEAVE",
        6: "DISCONNECT_SOCKETS", 7: "FETCH_SOCKETS", 8: "FETCH_SOCKETS_RESPONSE", 9: "SERVER_SIDE_EMIT",
        10: "SERVER_SIDE_EMIT_RESPONSE", 11: "BROADCAST_CLIENT_COUNT", 12: "BROADCAST_ACK", 13: "ADAPTER_CLOSE",
    ]

    public var type: Int
    public var uid: String?
    /// Absent in messages of redis-adapter 8.2.x's own ClusterAdapter.
    public var namespace: String?
    public var data: JSValue?
    public var encoding: PayloadEncoding
    public var value: JSValue

    public init(_ value: JSValue, encoding: PayloadEncoding) throws(CodecError) {
        guard case .object(let object) = value, case .number(let type) = object["type"],
            type.rounded(.towardZero) == type, abs(type) < 1e6
        else {
            throw CodecError(.unexpectedShape, "a cluster message is an object with an integer 'type'")
        }
        self.type = Int(type)
        self.uid = object["uid"]?.stringValue
        self.namespace = object["nsp"]?.stringValue
        self.data = object["data"]
        self.encoding = encoding
        self.value = value
    }

    public var typeName: String { Self.typeNames[type] ?? "unknown type \(type)" }

    /// For BROADCAST (3): the packet and options as a broadcast message (the
    /// packet carries no `nsp`; the envelope's namespace is used).
    public var broadcast: BroadcastMessage? {
        guard type == 3, var packet = data?["packet"]?.objectValue, let opts = data?["opts"]?.objectValue else {
            return nil
        }
        if packet["nsp"] == nil, let namespace { packet["nsp"] = .string(namespace) }
        return BroadcastMessage(uid: uid ?? "", packet: packet, options: opts)
    }
}
