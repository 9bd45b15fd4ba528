public import Hiredis
public import Logging

/// Commands to the deployment's Redis, whatever its shape: one server (one
/// connection) or a Redis Cluster (a ``ClusterRouter``). Which one is found
/// when connecting: `INFO cluster` says `cluster_enabled:1` on a cluster node.
///
/// Like a RedisConnection, a client belongs to one thread.
public final class RedisClient {
    public enum Backing {
        case standalone(RedisConnection)
        case cluster(ClusterRouter)
    }

    public let backing: Backing

    public init(_ connection: RedisConnection) {
        backing = .standalone(connection)
    }

    init(router: ClusterRouter) {
        backing = .cluster(router)
    }

    /// Connects to the first node that answers (``RedisConfiguration/connectAnyNode(timeout:)``)
    /// and asks it whether it is part of a cluster.
    public static func connect(
        _ configuration: RedisConfiguration,
        timeout: Duration = .seconds(2),
        logger: Logger = Logger(label: "socketbus.redis")
    ) throws(RedisError) -> RedisClient {
        let connection = try configuration.connectAnyNode(timeout: timeout)
        do {
            guard try isClusterNode(connection) else { return RedisClient(connection) }
            return RedisClient(
                router: try ClusterRouter(
                    configuration: configuration,
                    seed: connection,
                    timeout: timeout,
                    logger: logger
                )
            )
        } catch {
            connection.close()
            throw error
        }
    }

    /// `INFO cluster` says `cluster_enabled:1`. A server that refuses INFO
    /// (an ACL) is taken to be a standalone one.
    static func isClusterNode(_ connection: RedisConnection) throws(RedisError) -> Bool {
        do {
            let info = try connection.command(["INFO", "cluster"]).string ?? ""
            return info.split(whereSeparator: \.isNewline).contains { $0.hasPrefix("cluster_enabled:1") }
        } catch {
            if error.code == .reply && !error.isAuthenticationFailure { return false }
            throw error
        }
    }

    public var isCluster: Bool {
        if case .cluster = backing { return true }
        return false
    }

    /// The cluster's router; nil on a standalone Redis.
    public var router: ClusterRouter? {
        if case .cluster(let router) = backing { return router }
        return nil
    }

    public func close() {
        switch backing {
        case .standalone(let connection): connection.close()
        case .cluster(let router): router.close()
        }
    }

    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        switch backing {
        case .standalone(let connection): return try connection.command(arguments)
        case .cluster(let router): return try router.command(arguments)
        }
    }

    @discardableResult
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        try pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    @discardableResult
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        switch backing {
        case .standalone(let connection): return try connection.pipeline(commands)
        case .cluster(let router): return try router.pipeline(commands)
        }
    }

    /// `PING`; on a cluster at the master of `key`'s slot, so that a check
    /// of the registry's connection reaches the node that holds it.
    public func ping(near key: String) throws(RedisError) {
        switch backing {
        case .standalone(let connection): _ = try connection.command(["PING"])
        case .cluster(let router):
            let endpoint = try router.endpoint(forSlot: ClusterKeySlot.slot(of: key))
            do {
                _ = try router.connection(to: endpoint).command(["PING"])
            } catch {
                if error.code != .reply { router.drop(endpoint) }
                throw error
            }
        }
    }

    /// `PUBSUB NUMSUB`; on a cluster, summed over its nodes.
    public func subscriberCounts(_ channels: [String]) throws(RedisError) -> [String: Int] {
        switch backing {
        case .standalone(let connection): return try connection.subscriberCounts(channels)
        case .cluster(let router): return try router.subscriberCounts(channels)
        }
    }

    /// `PUBSUB SHARDNUMSUB <channel>`; on a cluster, summed over its nodes.
    public func shardSubscriberCount(_ channel: String) throws(RedisError) -> Int? {
        switch backing {
        case .standalone(let connection): return try connection.shardSubscriberCount(channel)
        case .cluster(let router): return try router.shardSubscriberCount(channel)
        }
    }

    /// `PUBSUB CHANNELS <pattern>`; on a cluster, over its nodes.
    public func activeChannels(matching pattern: String) throws(RedisError) -> [String] {
        switch backing {
        case .standalone(let connection):
            let reply = try connection.command(["PUBSUB", "CHANNELS", pattern])
            guard case .array(let channels) = reply else {
                throw RedisError(.protocolError, "unexpected reply to PUBSUB CHANNELS: \(reply)")
            }
            return channels.compactMap(\.string)
        case .cluster(let router): return try router.activeChannels(matching: pattern)
        }
    }
}
