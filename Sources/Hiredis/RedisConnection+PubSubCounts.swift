extension RedisConnection {
    /// `PUBSUB NUMSUB` of `channels`: the plain subscribers of each (pattern
    /// subscribers are not counted). A reply of any other shape, or a count
    /// out of range, is an error, never a count of 0.
    public func subscriberCounts(_ channels: [String]) throws(RedisError) -> [String: Int] {
        guard !channels.isEmpty else { return [:] }
        let reply = try command(["PUBSUB", "NUMSUB"] + channels)
        guard case .array(let parts) = reply, parts.count == channels.count * 2 else {
            throw RedisError(.protocolError, "unexpected reply to PUBSUB NUMSUB: \(reply)")
        }
        var counts: [String: Int] = [:]
        for index in stride(from: 0, to: parts.count, by: 2) {
            guard let channel = parts[index].string, let count = parts[index + 1].integer, count >= 0,
                count < Int64(Int32.max)
            else {
                throw RedisError(.protocolError, "unexpected reply to PUBSUB NUMSUB: \(reply)")
            }
            counts[channel] = Int(count)
        }
        return counts
    }
}
