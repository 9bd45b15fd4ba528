import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

/// `emit --wait-ack` in a cluster with Socket.IO servers without busd.
///
/// Two messages go out, to disjoint sets of sockets, so no client gets the
/// event twice: socketbus's broadcast (busd nodes confirm per socket) with
/// every target on a server without busd added to its `except`, and the
/// adapter's acked broadcast (type 7) to exactly those sockets. They are
/// found first by asking every server for the targets' ids (SOCKETS; stock
/// nodes answer it), less the sockets the registry places on busd nodes.
extension EmitCommand {
    struct StockTargets {
        /// Targeted sockets that are on servers without busd.
        var socketIds: [String]
        /// Servers counted by `PUBSUB NUMSUB` on the request channel.
        var servers: Int
        /// The target lookup (who answered).
        var lookup: ClusterSocketIds.Result
    }

    /// nil when no server answers requests on the namespace (`PUBSUB NUMSUB`
    /// is 0: an all-busd cluster whose busd does not answer requests) or when
    /// every target is a socket the registry knows.
    func findStockTargets(_ lookup: RegistryLookup, knownSockets: [String], wait: Duration) throws -> StockTargets? {
        guard to.isEmpty || to.count > knownSockets.count else { return nil }
        let subscriber = try options.connect()
        do {
            // Ids only (SOCKETS), not a fetch: a whole namespace may hold many sockets.
            let query = ClusterSocketIds(
                key: adapterKey,
                namespace: nsp,
                rooms: to.map(Room.name),
                except: except.map(Room.name)
            )
            // The lookup gets a share of --timeout; servers answer in milliseconds.
            let result = try query.run(
                command: lookup.connection,
                subscriber: subscriber,
                timeout: min(wait / 3, .seconds(2))
            )
            guard result.expected > 0 else { return nil }
            let registered = try Self.registered(result.ids, lookup)
            let stock = result.ids.filter { !registered.contains($0) }
            return StockTargets(socketIds: stock, servers: result.expected, lookup: result)
        } catch {
            throw options.failure("emit: while looking up targets on servers without busd", error)
        }
    }

    /// Which of `ids` the registry holds (`HMGET` of the owner hash, in batches).
    private static func registered(_ ids: [String], _ lookup: RegistryLookup) throws(RedisError) -> Set<String> {
        var found: Set<String> = []
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(ids.count, start + 1000)])
            start += batch.count
            let reply = try lookup.connection.command(["HMGET", lookup.keys.owner] + batch)
            guard case .array(let values) = reply, values.count == batch.count else {
                throw RedisError(.protocolError, "unexpected reply to HMGET: \(reply)")
            }
            for (id, value) in zip(batch, values) where value != .null { found.insert(id) }
        }
        return found
    }

    /// Subscribes for the answers, then publishes the acked broadcast to the
    /// stock targets on the request channel.
    func publishStockBroadcast(
        _ targets: StockTargets,
        data: [JSValue],
        wait: Duration,
        lookup: RegistryLookup
    ) throws -> (ResponseFeed, StockAckWait) {
        let uid = AdapterRequests.randomId()
        let requestId = AdapterRequests.randomId()
        var flags = JSObject()
        if volatile { flags["volatile"] = .bool(true) }
        flags["timeout"] = .number(Double(wait.milliseconds))
        let payload: [UInt8]
        do {
            payload = try AdapterRequests.broadcastWithAck(
                uid: uid,
                requestId: requestId,
                data: data,
                namespace: nsp,
                rooms: targets.socketIds.map(Room.name),
                except: [],
                flags: flags
            )
        } catch {
            printError("busctl emit: cannot encode the acked broadcast: \(error)")
            throw ExitCode(1)
        }
        let channel = AdapterChannel.request(key: adapterKey, namespace: nsp).name
        let connection = try options.connect()
        do {
            let feed = try ResponseFeed(
                connection: connection,
                channels: ResponseFeed.channels(key: adapterKey, namespaces: [nsp], uid: uid)
            )
            _ = try lookup.connection.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
            return (feed, StockAckWait(requestId: requestId, socketIds: targets.socketIds, servers: targets.servers))
        } catch {
            throw options.failure("emit: publishing the acked broadcast failed", error)
        }
    }
}
