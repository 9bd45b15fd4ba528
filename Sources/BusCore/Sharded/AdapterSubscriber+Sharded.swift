import Hiredis

extension AdapterSubscriber {
    /// Sends SSUBSCRIBE for sharded channels not asked for yet on this
    /// connection and SUNSUBSCRIBE for those dropped; true when it sent any.
    ///
    /// One command per channel: in a Redis Cluster the channels of one
    /// SSUBSCRIBE must share a slot, and each must reach the node owning its
    /// slot (see ``ShardedRouting/connection(for:standalone:)``).
    func updateShardChannels(_ connection: RedisConnection, requested: inout Set<String>) throws(RedisError) -> Bool {
        let (wanted, dropped) = shardChannelChanges(requested: requested)
        for channel in dropped where requested.remove(channel) != nil {
            try ShardedRouting.connection(for: channel, standalone: connection).append(["SUNSUBSCRIBE", channel])
        }
        for channel in wanted {
            try ShardedRouting.connection(for: channel, standalone: connection).append(["SSUBSCRIBE", channel])
            requested.insert(channel)
        }
        return !wanted.isEmpty || !dropped.isEmpty
    }
}
