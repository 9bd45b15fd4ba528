import BusCore
import Hiredis
import SocketIOCodec

/// How many servers `PUBSUB NUMSUB` counts on a namespace's request channel:
/// what a stock node counts in `serverCount()` and waits for in
/// fetchSockets, serverSideEmit with ack and acked broadcasts. Stock nodes
/// are counted, and busd nodes that answer requests; pattern subscribers
/// (a busd that only watches the channel) are not.
struct ServerCount {
    var namespace: String
    var channel: String
    var servers: Int

    /// The counts for `namespaces`; when none are given, for every namespace
    /// whose request channel has a subscriber (`PUBSUB CHANNELS`), and `/`.
    static func read(_ connection: RedisClient, key: String, namespaces: [String]) throws(RedisError)
        -> [ServerCount]
    {
        var names = namespaces
        if names.isEmpty {
            let channels = try connection.activeChannels(matching: AdapterChannel.globEscaped(key) + "-request#*")
            var found: Set<String> = ["/"]
            for channel in channels {
                if case .request(_, let nsp)? = try? AdapterChannel(parsing: channel, key: key) { found.insert(nsp) }
            }
            names = found.sorted()
        }
        let channels = names.map { AdapterChannel.request(key: key, namespace: $0).name }
        let counts = try connection.subscriberCounts(channels)
        return zip(names, channels).map { ServerCount(namespace: $0, channel: $1, servers: counts[$1] ?? 0) }
    }

    static func print(_ counts: [ServerCount], json: Bool, aliveBusdNodes: Int) {
        if json {
            let array: [JSValue] = counts.map {
                .object(
                    JSObject([
                        ("namespace", .string($0.namespace)), ("channel", .string($0.channel)),
                        ("servers", .number(Double($0.servers))),
                    ])
                )
            }
            Swift.print(JSONStringifier.string(.array(array)) ?? "[]")
            return
        }
        printColumns(
            [["NAMESPACE", "REQUEST CHANNEL", "SERVERS (NUMSUB)"]]
                + counts.map { [Printable.text($0.namespace), Printable.text($0.channel), "\($0.servers)"] }
        )
        Swift.print(
            "\(aliveBusdNodes) busd node(s) alive. NUMSUB counts every server that answers requests on the "
                + "namespace: Socket.IO servers with the stock adapter, and busd nodes that answer for their node; "
                + "a busd that only watches the channel (PSUBSCRIBE) is not counted."
        )
    }
}
