import Hiredis

extension RedisConnection {
    /// `PUBSUB SHARDNUMSUB channel`: its SSUBSCRIBErs on this server, nil when
    /// the reply does not name it. Any other shape, or a count out of range,
    /// is an error, never a count of 0.
    func shardSubscriberCount(_ channel: String) throws(RedisError) -> Int? {
        let reply = try command(["PUBSUB", "SHARDNUMSUB", channel])
        guard case .array(let parts) = reply, parts.count == 2 else {
            throw RedisError(.protocolError, "unexpected reply to PUBSUB SHARDNUMSUB: \(reply)")
        }
        guard parts[0].string == channel else { return nil }
        guard let count = parts[1].integer, count >= 0, count < Int64(Int32.max) else {
            throw RedisError(.protocolError, "unexpected reply to PUBSUB SHARDNUMSUB: \(reply)")
        }
        return Int(count)
    }
}
