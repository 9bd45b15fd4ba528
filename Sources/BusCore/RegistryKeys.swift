import SocketIOCodec

/// The Redis keys of the cluster copy of the ownership registry.
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>:owner` | hash | socket id → `<node>\t<connected-at ms>\t<namespace>` |
/// | `<prefix>:nodes` | set | ids of registered nodes |
/// | `<prefix>:node:<node>` | string, TTL | the node's liveness record (JSON); its expiry means the node is gone |
/// | `<prefix>:node:<node>:sockets` | set | socket ids the node owns (for clean-up) |
/// | `<prefix>:acks:<message id>` | list, TTL | the message's delivery records (JSON), also published on the channel of that name |
///
/// The default prefix is `socketbus`; on a Redis Cluster the registry's
/// prefix is a hash tag, `{socketbus}` (see RegistryKeys+Cluster.swift).
public struct RegistryKeys: Sendable, Hashable {
    public var prefix: String
    /// The prefix of the delivery records: the configured one, also where
    /// ``prefix`` is a cluster hash tag (RegistryKeys+Cluster.swift).
    public var acksPrefix: String

    public init(prefix: String = "socketbus") {
        self.prefix = prefix
        self.acksPrefix = prefix
    }

    public var owner: String { "\(prefix):owner" }
    public var nodes: String { "\(prefix):nodes" }
    public var nodePrefix: String { "\(prefix):node:" }
    public func node(_ id: String) -> String { "\(prefix):node:\(id)" }
    public func sockets(of node: String) -> String { "\(prefix):node:\(node):sockets" }
    /// A message's delivery records: a list (kept for the retention time)
    /// and the pub/sub channel of the same name they are published on.
    public func acks(_ messageId: String) -> String { "\(acksPrefix):acks:\(messageId)" }
    /// Every message's delivery records (`PSUBSCRIBE`).
    public var acksPattern: String { "\(AdapterChannel.globEscaped(acksPrefix)):acks:*" }

    /// The owner hash's value for a socket.
    public static func ownerValue(node: String, connectedAt: Int64, namespace: String) -> String {
        "\(node)\t\(connectedAt)\t\(namespace)"
    }

    /// Splits an owner value; nil when malformed.
    public static func parseOwnerValue(_ value: String) -> (node: String, connectedAt: Int64, namespace: String)? {
        let parts = value.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let at = Int64(parts[1]) else { return nil }
        return (String(parts[0]), at, String(parts[2]))
    }
}

/// Lua run inside Redis, so that a lookup or a clean-up is one round trip
/// and atomic.
enum RegistryScripts {
    /// KEYS[1] owner hash; ARGV[1] socket id, ARGV[2] node key prefix.
    /// Returns nil, or {owner value, liveness record or false, PTTL}.
    static let findSocket = """
        local v = redis.call('HGET', KEYS[1], ARGV[1])
        if not v then return false end
        local node = string.match(v, '^([^\\t]*)')
        local info = redis.call('GET', ARGV[2] .. node)
        return {v, info or false, redis.call('PTTL', ARGV[2] .. node)}
        """

    /// Removes a dead node's entries if its liveness key is gone.
    /// KEYS[1] the nodes set (declared so a cluster routes the script to
    /// the registry's slot; the script builds the other names); ARGV[1] prefix, ARGV[2] node id. Returns -1 when the node is alive,
    /// else the number of owner entries removed.
    static let removeDeadNode = """
        local prefix, node = ARGV[1], ARGV[2]
        if redis.call('EXISTS', prefix .. ':node:' .. node) == 1 then return -1 end
        local setkey = prefix .. ':node:' .. node .. ':sockets'
        local owner = prefix .. ':owner'
        local removed = 0
        local mine = node .. '\\t'
        for _, sid in ipairs(redis.call('SMEMBERS', setkey)) do
          local v = redis.call('HGET', owner, sid)
          if v and string.sub(v, 1, #mine) == mine then
            redis.call('HDEL', owner, sid)
            removed = removed + 1
          end
        end
        redis.call('DEL', setkey)
        redis.call('SREM', prefix .. ':nodes', node)
        return removed
        """
}
