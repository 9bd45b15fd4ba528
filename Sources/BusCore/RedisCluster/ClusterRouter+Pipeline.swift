public import Hiredis

extension ClusterRouter {
    /// Sends several commands: each node gets its commands in one write, in
    /// their order (so one slot's commands keep theirs), and the replies come
    /// back in the order of `commands`. Commands answered with MOVED, ASK,
    /// TRYAGAIN or CLUSTERDOWN are sent again one by one, in order, through
    /// ``command(_:)``. Then the first error reply, if any, is thrown.
    ///
    /// During a slot migration (ASK) a redirected command runs after the
    /// later commands of the same slot that the old node still answered.
    @discardableResult
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        if stale { try? refreshTopology() }
        var groups: [RedisConnection.Endpoint: [Int]] = [:]
        var order: [RedisConnection.Endpoint] = []
        for (index, command) in commands.enumerated() {
            let endpoint = try endpoint(forSlot: ClusterCommandKey.slot(of: command))
            if groups[endpoint] == nil { order.append(endpoint) }
            groups[endpoint, default: []].append(index)
        }
        var sent: [(RedisConnection.Endpoint, RedisConnection, [Int])] = []
        for endpoint in order {
            let indices = groups[endpoint] ?? []
            let connection = try connection(to: endpoint)
            do {
                for index in indices { try connection.append(commands[index]) }
            } catch {
                drop(endpoint)
                throw error
            }
            sent.append((endpoint, connection, indices))
        }
        var results = [Result<RedisReply, RedisError>](repeating: .success(.null), count: commands.count)
        for (endpoint, connection, indices) in sent {
            for index in indices {
                do {
                    results[index] = .success(try connection.readReply())
                } catch {
                    guard error.code == .reply else {
                        drop(endpoint)
                        throw error
                    }
                    results[index] = .failure(error)
                }
            }
        }
        var firstError: RedisError?
        for index in commands.indices {
            if case .failure(let error) = results[index], ClusterRedirect(error) != nil {
                do {
                    results[index] = .success(try command(commands[index]))
                } catch {
                    guard error.code == .reply else { throw error }
                    results[index] = .failure(error)
                }
            }
            if case .failure(let error) = results[index], firstError == nil {
                let name = commands[index].first.map { String(decoding: $0.prefix(16), as: UTF8.self) } ?? "?"
                firstError = error.during("\(name) (command \(index + 1) of \(commands.count))")
            }
        }
        if let firstError { throw firstError }
        return results.map { (try? $0.get()) ?? .null }
    }

    /// `PUBSUB NUMSUB` summed over every node: in a cluster each node counts
    /// only the clients subscribed on it (what a stock node's adapter adds up
    /// too). A node that does not answer makes it an error, not a smaller count.
    public func subscriberCounts(_ channels: [String]) throws(RedisError) -> [String: Int] {
        if stale { try? refreshTopology() }
        var total: [String: Int] = [:]
        for endpoint in topology.allNodes {
            let counts: [String: Int]
            do {
                counts = try connection(to: endpoint).subscriberCounts(channels)
            } catch {
                if error.code != .reply { drop(endpoint) }
                throw error.during("PUBSUB NUMSUB at cluster node \(endpoint)")
            }
            for (channel, count) in counts { total[channel, default: 0] += count }
        }
        return total
    }

    /// `PUBSUB SHARDNUMSUB` summed over every node, as the sharded adapter
    /// counts servers; nil when a node's reply does not name the channel.
    public func shardSubscriberCount(_ channel: String) throws(RedisError) -> Int? {
        if stale { try? refreshTopology() }
        var total = 0
        for endpoint in topology.allNodes {
            let count: Int?
            do {
                count = try connection(to: endpoint).shardSubscriberCount(channel)
            } catch {
                if error.code != .reply { drop(endpoint) }
                throw error.during("PUBSUB SHARDNUMSUB at cluster node \(endpoint)")
            }
            guard let count else { return nil }
            total += count
        }
        return total
    }

    /// `PUBSUB CHANNELS <pattern>` over every node (each lists its own).
    public func activeChannels(matching pattern: String) throws(RedisError) -> [String] {
        if stale { try? refreshTopology() }
        var all = Set<String>()
        for endpoint in topology.allNodes {
            let reply: RedisReply
            do {
                reply = try connection(to: endpoint).command(["PUBSUB", "CHANNELS", pattern])
            } catch {
                if error.code != .reply { drop(endpoint) }
                throw error.during("PUBSUB CHANNELS at cluster node \(endpoint)")
            }
            guard case .array(let channels) = reply else {
                throw RedisError(.protocolError, "unexpected reply to PUBSUB CHANNELS: \(reply)")
            }
            all.formUnion(channels.compactMap(\.string))
        }
        return all.sorted()
    }
}
