public import SocketIOCodec

/// Which adapter the cluster's stock nodes use, so busd speaks as they do.
public enum AdapterFlavor: Sendable, Hashable {
    /// `createAdapter`: PUBLISH/SUBSCRIBE, `<key>-request#<nsp>#` and friends.
    case classic
    /// `createShardedAdapter`: SPUBLISH/SSUBSCRIBE, ClusterAdapter messages.
    case sharded(ShardedChannels.Mode)

    /// The setting's values (`redis.adapter`).
    public enum Name: String, Sendable, CaseIterable {
        case classic
        case sharded
    }

    public var shardedMode: ShardedChannels.Mode? {
        if case .sharded(let mode) = self { return mode }
        return nil
    }
}
