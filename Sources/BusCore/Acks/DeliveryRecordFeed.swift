public import Hiredis

/// Delivery records as they are published: a pub/sub connection subscribed
/// to one message's channel, or to every message's (`acksPattern`).
public final class DeliveryRecordFeed {
    private let connection: RedisConnection

    /// Subscribes `connection` (which then serves only this feed) and waits
    /// for Redis to confirm, so that nothing published afterwards is missed.
    public init(connection: RedisConnection, keys: RegistryKeys, messageId: String?) throws(RedisError) {
        self.connection = connection
        if let messageId {
            _ = try connection.command(["SUBSCRIBE", keys.acks(messageId)])
        } else {
            _ = try connection.command(["PSUBSCRIBE", keys.acksPattern])
        }
    }

    /// The next record, or nil when `timeout` passed first. Messages that are
    /// not records are skipped.
    public func next(timeout: Duration) throws(RedisError) -> DeliveryRecord? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            while let reply = try connection.bufferedReply() {
                guard case .array(let parts) = reply, let kind = parts.first?.string,
                    kind == "message" || kind == "pmessage",
                    case .bulk(let json)? = parts.last, let record = try? DeliveryRecord(json: json)
                else { continue }
                return record
            }
            let left = deadline - clock.now
            guard left > .zero, try connection.waitReadable(timeout: left) else { return nil }
            try connection.readAvailable()
        }
    }
}

extension RegistryLookup {
    /// A message's stored delivery records, oldest first (unreadable entries skipped).
    public func deliveryRecords(messageId: String) throws(RedisError) -> [DeliveryRecord] {
        let reply = try connection.command(["LRANGE", keys.acks(messageId), "0", "-1"])
        guard case .array(let items) = reply else {
            throw RedisError(.protocolError, "unexpected reply to LRANGE: \(reply)")
        }
        return items.compactMap { item in
            guard case .bulk(let json) = item else { return nil }
            return try? DeliveryRecord(json: json)
        }
    }
}
