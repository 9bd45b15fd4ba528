import Hiredis

/// What a cluster error reply asks the client to do.
enum ClusterRedirect: Sendable, Hashable {
    /// `MOVED <slot> <host>:<port>`: the slot lives there now; refresh.
    case moved(slot: Int, to: RedisConnection.Endpoint)
    /// `ASK <slot> <host>:<port>`: this one command goes there, after `ASKING`.
    case ask(slot: Int, to: RedisConnection.Endpoint)
    /// `TRYAGAIN` (a multi-key command during a resharding) or `CLUSTERDOWN`
    /// (the cluster is failing over or lost coverage): wait, refresh, retry.
    case retryLater

    /// nil for any other error (the error stays an error). A MOVED or ASK
    /// whose slot or address cannot be used is nil too.
    init?(_ error: RedisError) {
        guard let prefix = error.replyPrefix else { return nil }
        switch prefix {
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .retryLater
        case "MOVED", "ASK":
            let words = error.message.split(separator: " ")
            guard words.count == 3, let slot = Int(words[1]), (0..<ClusterKeySlot.count).contains(slot),
                let endpoint = Self.endpoint(words[2])
            else { return nil }
            self = prefix == "MOVED" ? .moved(slot: slot, to: endpoint) : .ask(slot: slot, to: endpoint)
        default:
            return nil
        }
    }

    /// `host:port` (the host may be an IPv6 address with colons of its own).
    static func endpoint(_ text: Substring) -> RedisConnection.Endpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        // An empty host ("MOVED 12 :7001") means the host of the node that answered.
        return .tcp(host: String(host), port: port)
    }
}
