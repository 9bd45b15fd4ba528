public import Hiredis

/// Reads the cluster copy of the registry: what `busctl find-socket` and
/// `busctl nodes` use, from any machine that reaches Redis.
public struct RegistryLookup {
    public struct SocketLocation: Sendable, Hashable {
        public var socketId: String
        public var node: String
        public var namespace: String
        /// Milliseconds since the Unix epoch.
        public var connectedAt: Int64
        /// The owning node's liveness record; nil when its key expired (stale).
        public var nodeRecord: NodeRecord?
        /// Remaining liveness in milliseconds (nil when stale).
        public var livenessMilliseconds: Int64?
        public var isAlive: Bool { nodeRecord != nil }
    }

    public struct NodeStatus: Sendable, Hashable {
        public var id: String
        /// nil when the node is registered but its liveness key expired.
        public var record: NodeRecord?
        public var isAlive: Bool { record != nil }
    }

    /// The keys as this Redis names them (hash-tagged on a cluster).
    public let keys: RegistryKeys
    public let connection: RedisClient

    public init(connection: RedisClient, keys: RegistryKeys = RegistryKeys()) {
        self.connection = connection
        self.keys = keys.on(connection)
    }

    /// On one Redis server.
    public init(connection: RedisConnection, keys: RegistryKeys = RegistryKeys()) {
        self.init(connection: RedisClient(connection), keys: keys)
    }

    /// One round trip: a server-side script reads the owner and its liveness.
    public func findSocket(_ id: String) throws(RedisError) -> SocketLocation? {
        let reply = try connection.command(["EVAL", RegistryScripts.findSocket, "1", keys.owner, id, keys.nodePrefix])
        switch reply {
        case .null:
            return nil
        case .array(let parts) where parts.count == 3:
            guard let value = parts[0].string, let owner = RegistryKeys.parseOwnerValue(value) else {
                throw RedisError(.protocolError, "malformed owner entry for \(id)")
            }
            let record = parts[1].string.flatMap(NodeRecord.init(json:))
            let ttl = parts[2].integer.flatMap { $0 >= 0 ? $0 : nil }
            return SocketLocation(
                socketId: id,
                node: owner.node,
                namespace: owner.namespace,
                connectedAt: owner.connectedAt,
                nodeRecord: record,
                livenessMilliseconds: record == nil ? nil : ttl
            )
        default:
            throw RedisError(.protocolError, "unexpected reply to find-socket: \(reply)")
        }
    }

    /// Registered nodes and their liveness (two round trips).
    public func nodes() throws(RedisError) -> [NodeStatus] {
        let membersReply = try connection.command(["SMEMBERS", keys.nodes])
        guard case .array(let members) = membersReply else {
            throw RedisError(.protocolError, "unexpected reply to SMEMBERS: \(membersReply)")
        }
        let ids = members.compactMap(\.string).sorted()
        guard !ids.isEmpty else { return [] }
        let recordsReply = try connection.command(["MGET"] + ids.map(keys.node))
        guard case .array(let records) = recordsReply, records.count == ids.count else {
            throw RedisError(.protocolError, "unexpected reply to MGET: \(recordsReply)")
        }
        return zip(ids, records).map { id, record in
            NodeStatus(id: id, record: record.string.flatMap(NodeRecord.init(json:)))
        }
    }
}
