/// CLUSTER_REQUEST (0x1B) kinds: the adapter API the node's application calls.
public enum ClusterRequestKind: UInt8, Sendable, Hashable, CaseIterable {
    case serverCount = 1
    case fetchSockets = 2
    case allRooms = 3
    case socketsJoin = 4
    case socketsLeave = 5
    case disconnectSockets = 6
    case serverSideEmit = 7
    case serverSideEmitWithAck = 8

    /// The label of `socketbus_cluster_requests_total{type}`.
    public var label: String {
        switch self {
        case .serverCount: return "server_count"
        case .fetchSockets: return "fetch_sockets"
        case .allRooms: return "all_rooms"
        case .socketsJoin: return "sockets_join"
        case .socketsLeave: return "sockets_leave"
        case .disconnectSockets: return "disconnect_sockets"
        case .serverSideEmit: return "server_side_emit"
        case .serverSideEmitWithAck: return "server_side_emit_with_ack"
        }
    }
}

/// Request ids as the adapter makes them (`uid2(6)`: 6 base64url characters).
public enum RequestIds {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> String {
        String((0..<6).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
