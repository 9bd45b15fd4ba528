import Hiredis

/// SEAM for Redis Cluster routing (built by another helper, not here).
///
/// With the sharded adapter every SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and
/// `PUBSUB SHARDNUMSUB` of a channel must go to the node that owns the
/// channel's hash slot (CRC16 of the channel name, mod 16384; hash tags do
/// not apply to the stock channel names, which contain no braces unless the
/// namespace or room does). On one Redis server (standalone, Sentinel)
/// there is one connection and this returns it.
///
/// Where it is called: ``AdapterSubscriber/updateShardChannels(_:requested:)``
/// (subscriptions) and ``ServerCounter`` (SHARDNUMSUB, which in a cluster is
/// summed over the masters, as the stock adapter does). SPUBLISH goes out
/// through the registry mirror's command queue (``ClusterMember`` enqueues
/// `["SPUBLISH", channel, payload]`); the cluster router must route it by its
/// channel argument.
enum ShardedRouting {
    /// The connection to use for `channel`. Cluster routing replaces the body.
    static func connection(for channel: String, standalone: RedisConnection) -> RedisConnection {
        standalone
    }
}
