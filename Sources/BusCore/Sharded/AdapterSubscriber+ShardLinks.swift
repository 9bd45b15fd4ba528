import Hiredis
import Logging
import Synchronization

/// The subscriber on a Redis Cluster: its shard channels on the masters of
/// their slots (``ShardLinks``), read by the same loop, into the same
/// backlog, in the same order per connection as on one server.
extension AdapterSubscriber {
    /// On a cluster node (and not behind Sentinel): the links for shard
    /// channels, with a router of their own for the slot table. nil on one
    /// server, where SSUBSCRIBE goes on `connection` as before.
    func openShardLinks(beside connection: RedisConnection) -> ShardLinks? {
        guard redis.sentinel == nil, (try? RedisClient.isClusterNode(connection)) == true else { return nil }
        do {
            let seed = try redis.connect(to: connection.endpoint, timeout: settings.connectTimeout)
            let router = try ClusterRouter(
                configuration: redis,
                seed: seed,
                timeout: settings.connectTimeout,
                logger: logger
            )
            return ShardLinks(router: router, timeout: settings.connectTimeout, logger: logger)
        } catch {
            // The first SSUBSCRIBE will read the table again.
            logger.warning("cluster: slot table not read for the shard channels yet: \(error)")
            return nil
        }
    }

    /// SSUBSCRIBE / SUNSUBSCRIBE of `wanted` / `dropped` on their slots'
    /// masters. What cannot be routed now (the cluster is failing over) is
    /// put back, to be sent on a later turn of the loop.
    func routeShardChannels(_ links: ShardLinks, wanted: [String], dropped: [String]) {
        var touched: [RedisConnection.Endpoint: RedisConnection] = [:]
        for channel in dropped {
            guard let connection = links.connection(unsubscribing: channel) else { continue }
            do {
                try connection.append(["SUNSUBSCRIBE", channel])
                touched[connection.endpoint] = connection
            } catch {
                forgetShardChannels(links.drop(connection.endpoint, because: error))
            }
        }
        var unsent: [String] = []
        for (index, channel) in wanted.enumerated() {
            guard links.mayRoute else {
                unsent += wanted[index...]
                break
            }
            do {
                let connection = try links.connection(for: channel)
                try connection.append(["SSUBSCRIBE", channel])
                touched[connection.endpoint] = connection
            } catch {
                links.routingFailed(error)
                unsent.append(channel)
            }
        }
        forgetShardChannels(unsent)
        for (endpoint, connection) in touched {
            do {
                try directWrite.withLock { _ throws(RedisError) in try connection.flush() }
            } catch {
                forgetShardChannels(links.drop(endpoint, because: error))
            }
        }
    }

    /// Waits for the main connection, the shard links or a wake-up; reads
    /// what came. True when anything was read.
    func waitReadableWithShardLinks(_ connection: RedisConnection, timeout: Duration) throws -> Bool {
        guard let links = shardLinks else { return false }
        let shards = links.connections
        let readable = try wake.waitReadable(
            sockets: [connection.fileDescriptor] + shards.map { $0.1.fileDescriptor },
            timeout: timeout
        )
        var any = false
        if readable.first == true {
            try connection.readAvailable()
            any = true
        }
        for (index, (endpoint, shard)) in shards.enumerated() where readable.indices.contains(index + 1) {
            guard readable[index + 1] else { continue }
            any = true
            do {
                try shard.readAvailable()
                links.noteTraffic(endpoint)
            } catch {
                forgetShardChannels(links.drop(endpoint, because: error))
            }
        }
        return any
    }

    /// Moves what the shard links read into the backlog and handles their
    /// other replies; a `MOVED` sends that slot's channels to its new master.
    func drainShardLinks() {
        guard let links = shardLinks else { return }
        for (endpoint, shard) in links.connections {
            do {
                _ = try drain(shard)
            } catch let error as RedisError where error.code == .reply {
                if case .moved(let slot, _)? = ClusterRedirect(error) {
                    forgetShardChannels(links.moved(slot: slot, on: endpoint))
                } else {
                    // CLUSTERDOWN, ACL…: the link's channels go through routing again.
                    forgetShardChannels(links.drop(endpoint, because: error))
                }
            } catch {
                forgetShardChannels(links.drop(endpoint, because: error))
            }
        }
    }

    /// PINGs idle links; one that does not answer in time is dropped.
    func pingShardLinks() {
        guard let links = shardLinks else { return }
        for endpoint in links.ping(interval: settings.pingInterval, timeout: settings.pingTimeout) {
            forgetShardChannels(links.drop(endpoint, because: RedisError(.io, "no answer to PING")))
        }
        for (endpoint, shard) in links.connections {
            do {
                try directWrite.withLock { _ throws(RedisError) in try shard.flush() }
            } catch {
                forgetShardChannels(links.drop(endpoint, because: error))
            }
        }
    }
}
