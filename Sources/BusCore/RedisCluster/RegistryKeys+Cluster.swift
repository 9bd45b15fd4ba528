/// The registry's keys in a Redis Cluster.
///
/// The registry's scripts and multi-key commands (RegistryScripts, MGET of
/// liveness records, the DEL on leaving) touch several keys, which a cluster
/// only allows within one hash slot. So on a cluster the registry prefix is
/// a hash tag: `socketbus` becomes `{socketbus}` (`{socketbus}:owner`,
/// `{socketbus}:node:<id>`, ...) and the whole registry lives in one slot. A
/// prefix that already holds a tag (`app{reg}`) is used as it is. Every busd
/// and busctl of a deployment finds the cluster the same way (`INFO
/// cluster`), so all compute the same names; a standalone Redis keeps the
/// plain names. Delivery records (`<prefix>:acks:<id>`) are single keys and
/// channels: they keep their names and spread over the slots.
extension RegistryKeys {
    public var inCluster: RegistryKeys {
        var keys = self
        if ClusterKeySlot.hashedPart(of: Array(prefix.utf8)).count == prefix.utf8.count {
            keys.prefix = "{\(prefix)}"
        }
        return keys
    }

    /// These keys on `client`'s Redis: ``inCluster`` on a cluster.
    public func on(_ client: RedisClient) -> RegistryKeys {
        client.isCluster ? inCluster : self
    }
}
