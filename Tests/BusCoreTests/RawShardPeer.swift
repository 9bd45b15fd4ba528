import Hiredis
import SocketIOCodec
import TestSupport

/// A stock sharded node's Redis side: SSUBSCRIBE of some channels, SPUBLISH.
final class RawShardPeer {
    let connection: RedisConnection
    let publisher: RedisConnection

    init(_ server: RedisTestServer, channels: [String]) throws {
        connection = try RedisConnection(endpoint: .unix(path: server.socketPath))
        publisher = try RedisConnection(endpoint: .unix(path: server.socketPath))
        for channel in channels {
            try connection.append(["SSUBSCRIBE", channel])
            _ = try connection.readReply()
        }
    }

    func publish(_ channel: String, _ payload: [UInt8]) throws {
        _ = try publisher.command([Array("SPUBLISH".utf8), Array(channel.utf8), payload])
    }

    func shardCount(_ channel: String) throws -> Int? {
        guard case .array(let parts) = try publisher.command(["PUBSUB", "SHARDNUMSUB", channel]) else { return nil }
        return parts.last?.integer.map(Int.init)
    }

    /// The next smessage's (channel, payload), nil after `timeout`.
    func next(timeout: Duration = .seconds(3)) throws -> (String, [UInt8])? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let reply = try connection.bufferedReply() {
                guard let parts = reply.array, parts.count == 3, parts[0].string == "smessage",
                    case .bulk(let payload) = parts[2]
                else { continue }
                return (parts[1].string ?? "", payload)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, try connection.waitReadable(timeout: left) else { return nil }
            try connection.readAvailable()
        }
    }

    func nextMessage(timeout: Duration = .seconds(3)) throws -> (String, ShardedMessage)? {
        guard let (channel, payload) = try next(timeout: timeout) else { return nil }
        return (channel, try ShardedMessage.decode(payload))
    }
}
