public import Hiredis

/// How to find the master through Redis Sentinel: the sentinels to ask, the
/// name of the master they watch, and the sentinels' own credentials (the
/// master's are ``RedisConfiguration/username`` and ``RedisConfiguration/password``).
public struct RedisSentinel: Sendable, Hashable, CustomStringConvertible {
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int = RedisSentinel.defaultPort) {
            self.host = host
            self.port = port
        }

        public var endpoint: RedisConnection.Endpoint { .tcp(host: host, port: port) }
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public static let defaultPort = 26379

    public var sentinels: [Address]
    public var masterName: String
    public var username: String?
    public var password: String?
    /// TLS to the sentinels (`rediss+sentinel://`); the master's connections
    /// take the configuration's `tls`, which such a URL sets to the same.
    public var tls: RedisTLS?

    public init(
        sentinels: [Address],
        masterName: String,
        username: String? = nil,
        password: String? = nil,
        tls: RedisTLS? = nil
    ) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// The sentinels and the master name, never the password.
    public var description: String {
        "\(sentinels.map(\.description).joined(separator: ","))/\(masterName)"
    }
}

extension RedisConfiguration {
    /// The configuration of a `redis+sentinel://` or `rediss+sentinel://`
    /// URL; nil for any other scheme.
    ///
    /// `redis+sentinel://[user:pass@]host[:port][,host2[:port2]]/<master-name>[/db][?sentinel_username=U&sentinel_password=P]`:
    /// sentinels on 26379 by default; user and password are the master's.
    static func sentinelConfiguration(url: String) throws(ParseError) -> RedisConfiguration? {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("redis+sentinel://") {
            tls = false
            rest = url.dropFirst("redis+sentinel://".count)
        } else if url.hasPrefix("rediss+sentinel://") {
            tls = true
            rest = url.dropFirst("rediss+sentinel://".count)
        } else {
            return nil
        }
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        var main = rest[..<queryStart]
        var username: String?
        var password: String?
        if let at = main.lastIndex(of: "@") {
            let credentials = main[..<at]
            main = main[main.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = String(credentials[..<colon])
                username = user.isEmpty ? nil : percentDecoded(user)
                password = percentDecoded(String(credentials[credentials.index(after: colon)...]))
            } else {
                password = percentDecoded(String(credentials))
            }
        }
        guard let slash = main.firstIndex(of: "/") else {
            throw ParseError(
                description: "sentinel URL: the master name is missing (redis+sentinel://host:port/<master-name>)"
            )
        }
        let sentinels = try sentinelAddresses(main[..<slash])
        let path = main[main.index(after: slash)...].split(separator: "/", omittingEmptySubsequences: false)
        guard let name = path.first, !name.isEmpty else {
            throw ParseError(
                description: "sentinel URL: the master name is missing (redis+sentinel://host:port/<master-name>)"
            )
        }
        var database = 0
        if path.count >= 2, !path[1].isEmpty {
            guard let n = Int(path[1]), n >= 0 else {
                throw ParseError(description: "sentinel URL: db '\(path[1])' is not a number")
            }
            database = n
        }
        if path.count > 2 {
            throw ParseError(
                description: "sentinel URL: unexpected path after the db: '/\(path[2...].joined(separator: "/"))'"
            )
        }
        var sentinel = RedisSentinel(sentinels: sentinels, masterName: percentDecoded(String(name)))
        // The ssl_* options are rediss://'s (RedisConfiguration+TLS.swift).
        var tlsQuery: [Substring] = []
        if queryStart < rest.endIndex {
            for pair in rest[rest.index(after: queryStart)...].split(separator: "&") {
                if pair.hasPrefix("ssl_") {
                    guard tls else {
                        throw ParseError(description: "sentinel URL: \(pair.prefix { $0 != "=" }) needs rediss+sentinel://")
                    }
                    tlsQuery.append(pair)
                    continue
                }
                let kv = pair.split(separator: "=", maxSplits: 1)
                let key = String(kv.first ?? "")
                let value = kv.count == 2 ? percentDecoded(String(kv[1])) : ""
                switch key {
                case "sentinel_username":
                    guard !value.isEmpty else {
                        throw ParseError(description: "sentinel URL: sentinel_username is empty")
                    }
                    sentinel.username = value
                case "sentinel_password":
                    guard !value.isEmpty else {
                        throw ParseError(description: "sentinel URL: sentinel_password is empty")
                    }
                    sentinel.password = value
                default:
                    throw ParseError(
                        description:
                            "sentinel URL: unknown parameter '\(key)' (known: sentinel_username, sentinel_password)"
                    )
                }
            }
        }
        if sentinel.username != nil && sentinel.password == nil {
            throw ParseError(description: "sentinel URL: sentinel_username needs a sentinel_password")
        }
        if tls { sentinel.tls = try tlsOptions(query: Substring(tlsQuery.joined(separator: "&"))) }
        var configuration = RedisConfiguration(
            endpoint: sentinels[0].endpoint,
            username: username,
            password: password,
            database: database
        )
        configuration.sentinel = sentinel
        configuration.tls = sentinel.tls
        return configuration
    }

    /// `host[:port][,host2[:port2]]`, IPv6 hosts in brackets.
    private static func sentinelAddresses(_ text: Substring) throws(ParseError) -> [RedisSentinel.Address] {
        var addresses: [RedisSentinel.Address] = []
        for (index, item) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            var host = item
            var port = RedisSentinel.defaultPort
            var portText: Substring?
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else {
                    throw ParseError(description: "sentinel URL: sentinel \(index + 1): unterminated IPv6 address")
                }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") {
                    portText = after.dropFirst()
                } else if !after.isEmpty {
                    throw ParseError(
                        description: "sentinel URL: sentinel \(index + 1): '\(after)' after the IPv6 address"
                    )
                }
                host = host[host.index(after: host.startIndex)..<close]
            } else if let colon = host.lastIndex(of: ":") {
                portText = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            if let portText {
                guard let p = Int(portText), (1...65535).contains(p) else {
                    throw ParseError(
                        description:
                            "sentinel URL: sentinel \(index + 1): port '\(portText)' is not a number in 1-65535"
                    )
                }
                port = p
            }
            guard !host.isEmpty else {
                throw ParseError(description: "sentinel URL: sentinel \(index + 1) has no host")
            }
            addresses.append(RedisSentinel.Address(host: String(host), port: port))
        }
        return addresses
    }

    /// The sentinel URL without passwords, for logs and messages.
    var sentinelDescription: String? {
        guard let sentinel else { return nil }
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        var query: [String] = []
        if let user = sentinel.username { query.append("sentinel_username=\(user)") }
        if sentinel.password != nil { query.append("sentinel_password=***") }
        return "\(sentinel.tls != nil ? "rediss" : "redis")+sentinel://\(auth)\(sentinel)/\(database)"
            + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }
}
