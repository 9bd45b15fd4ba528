import Hiredis
import TestSupport

/// A plain Redis subscriber standing in for a stock node's subClient.
final class RawSubscriber {
    let connection: RedisConnection

    init(_ server: RedisTestServer, channels: [String]) throws {
        connection = try RedisConnection(endpoint: .unix(path: server.socketPath))
        try connection.append(["SUBSCRIBE"] + channels)
        for _ in channels { _ = try connection.readReply() }
    }

    /// The next message's (channel, payload), nil after `timeout`.
    func next(timeout: Duration = .seconds(3)) throws -> (String, [UInt8])? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let reply = try connection.bufferedReply() {
                guard let parts = reply.array, parts.count == 3, parts[0].string == "message",
                    case .bulk(let payload) = parts[2]
                else { continue }
                return (parts[1].string ?? "", payload)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, try connection.waitReadable(timeout: left) else { return nil }
            try connection.readAvailable()
        }
    }

    func nextText(timeout: Duration = .seconds(3)) throws -> String? {
        try next(timeout: timeout).map { String(decoding: $0.1, as: UTF8.self) }
    }
}
