extension ChannelCounters {
    /// One entry per channel name, summed over dispatchers (the one in
    /// effect first, then those reloads replaced): a counter of a channel
    /// that survives a reload keeps counting up from where it was.
    public static func merged(_ lists: [[ChannelCounters]]) -> [ChannelCounters] {
        var order: [String] = []
        var sums: [String: ChannelCounters] = [:]
        for list in lists {
            for counters in list {
                var sum =
                    sums[counters.channel]
                    ?? {
                        order.append(counters.channel)
                        return ChannelCounters(channel: counters.channel)
                    }()
                sum.sent += counters.sent
                sum.failed += counters.failed
                sum.attempts += counters.attempts
                sum.dropped += counters.dropped
                sums[counters.channel] = sum
            }
        }
        return order.compactMap { sums[$0] }
    }
}
