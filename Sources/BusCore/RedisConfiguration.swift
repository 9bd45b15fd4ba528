public import Hiredis
import Foundation

/// Where and how to reach Redis, from a URL:
///
/// - `redis://[[user]:password@]host[:port][/db]` (port 6379, db 0 by default)
/// - `unix:///path/to/redis.sock[?db=N&user=U&password=P]`
/// - `redis+sentinel://[user:pass@]host[:port][,host2[:port2]]/<master-name>[/db]`
///   (see RedisSentinel.swift)
/// - `redis://[[user]:password@]host1:port1,host2:port2` : cluster seeds (ClusterSeeds.swift)
/// - `rediss://...`: as `redis://`, over TLS, with redis-py's query options
///   (RedisConfiguration+TLS.swift)
///
/// A password-only URL (`redis://:secret@host`) sends `AUTH secret`; with a
/// user it sends `AUTH user secret` (Redis 6 ACL).
public struct RedisConfiguration: Sendable, Hashable, CustomStringConvertible {
    public var endpoint: RedisConnection.Endpoint
    public var username: String?
    public var password: String?
    public var database: Int
    /// Set for a `redis+sentinel://` URL: ``connect(timeout:)`` asks the
    /// sentinels for the master (`endpoint` is then the first sentinel's).
    public var sentinel: RedisSentinel?
    /// More cluster nodes to try after ``endpoint`` (a URL with several hosts; ClusterSeeds.swift).
    public var seeds: [RedisConnection.Endpoint] = []
    /// TLS for every connection (`rediss://`); nil: plain text.
    public var tls: RedisTLS?

    public init(
        endpoint: RedisConnection.Endpoint, username: String? = nil, password: String? = nil, database: Int = 0,
        tls: RedisTLS? = nil
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Why a URL cannot be used. Its text never holds the URL's password:
    /// every message is redacted (see ``redacted(_:)``).
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String

        init(description: String) {
            self.description = RedisConfiguration.redacted(description)
        }
    }

    public init(url: String) throws(ParseError) {
        if let sentinel = try Self.sentinelConfiguration(url: url) { self = sentinel; return }
        if let seeded = try Self.seeded(url: url) { self = seeded; return }
        if url.hasPrefix("rediss://") {
            try self.init(tlsURL: url)
            return
        }
        if url.hasPrefix("unix://") {
            let rest = String(url.dropFirst("unix://".count))
            let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(parts[0])
            guard path.hasPrefix("/") else {
                throw ParseError(description: "redis URL '\(url)': unix socket path must be absolute (unix:///path)")
            }
            var database = 0
            var username: String?
            var password: String?
            if parts.count == 2 {
                for pair in parts[1].split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    let key = String(kv[0])
                    let value = kv.count == 2 ? Self.percentDecoded(String(kv[1])) : ""
                    switch key {
                    case "db":
                        guard let n = Int(value), n >= 0 else {
                            throw ParseError(description: "redis URL: db must be a number, got '\(value)'")
                        }
                        database = n
                    case "user", "username": username = value
                    case "password": password = value
                    default: throw ParseError(description: "redis URL: unknown parameter '\(key)'")
                    }
                }
            }
            self.init(endpoint: .unix(path: path), username: username, password: password, database: database)
            return
        }
        guard url.hasPrefix("redis://") else {
            throw ParseError(
                description: "a redis URL must start with redis://, rediss://, redis+sentinel://, rediss+sentinel:// or unix://"
            )
        }
        var rest = Substring(url.dropFirst("redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = String(credentials[..<colon])
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(String(credentials[credentials.index(after: colon)...]))
            } else {
                password = Self.percentDecoded(String(credentials))
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else {
                    throw ParseError(description: "redis URL: database '\(db)' is not a number")
                }
                database = n
            }
        }
        var host = String(rest)
        var port = 6379
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw ParseError(description: "redis URL: unterminated IPv6 address")
            }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw ParseError(description: "redis URL: port '\(after.dropFirst())' is not a number in 1-65535")
                }
                port = p
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            let portText = host[host.index(after: colon)...]
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw ParseError(description: "redis URL: port '\(portText)' is not a number in 1-65535")
            }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw ParseError(description: "redis URL '\(url)' has no host") }
        self.init(endpoint: .tcp(host: host, port: port), username: username, password: password, database: database)
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        if let sentinelDescription { return sentinelDescription }
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        switch endpoint {
        case .tcp:
            return "\(tls == nil ? "redis" : "rediss")://\(auth)\(Self.hostList(seedEndpoints))/\(database)"
        case .unix(let path):
            return "unix://\(path)?db=\(database)\(password == nil ? "" : "&password=***")"
        }
    }

    /// `text` with the credentials of any redis URL in it (`//user:pw@`) and
    /// every `password=` value replaced by `***`.
    static func redacted(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        // `//...@`: what sits between the scheme and the last '@' before the next blank or quote.
        while let start = rest.range(of: "//") {
            result += rest[..<start.upperBound]
            rest = rest[start.upperBound...]
            let token = rest.prefix { !$0.isWhitespace && $0 != "'" }
            if let at = token.lastIndex(of: "@") {
                result += "***"
                rest = rest[at...]
            }
        }
        result += rest
        // `password=...` up to the next '&', blank or quote.
        var redacted = ""
        var remaining = Substring(result)
        while let range = remaining.range(of: "password=") {
            redacted += remaining[..<range.upperBound] + "***"
            remaining = remaining[range.upperBound...].drop { $0 != "&" && !$0.isWhitespace && $0 != "'" }
        }
        return redacted + remaining
    }

    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let first = utf8.first {
            if first == UInt8(ascii: "%"), utf8.count >= 3,
                let value = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(first)
                utf8 = utf8.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Opens a connection, authenticates and selects the database (or, with
    /// neither to do, PINGs). A refusal is thrown as the server's error
    /// reply, saying which step.
    public func connect(timeout: Duration = .seconds(2)) throws(RedisError) -> RedisConnection {
        if let sentinel { return try connectToMaster(through: sentinel, timeout: timeout) }
        return try connect(to: endpoint, timeout: timeout)
    }

    /// ``connect(timeout:)`` to another server of the same deployment (a
    /// replica, a cluster node, a sentinel's master) with these credentials.
    public func connect(to endpoint: RedisConnection.Endpoint, timeout: Duration = .seconds(2)) throws(RedisError)
        -> RedisConnection
    {
        // With TLS, the name checked (and sent as SNI) is this endpoint's host
        // unless tls.serverName says otherwise: sentinels' masters and cluster
        // nodes are verified as themselves.
        let connection = try RedisConnection(endpoint: endpoint, timeout: timeout, tls: tls)
        if let password {
            let args = username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            do {
                _ = try connection.command(args)
            } catch {
                throw plainTextHint(error).during("AUTH at \(self)")
            }
        }
        if database != 0 {
            do {
                _ = try connection.command(["SELECT", "\(database)"])
            } catch {
                throw plainTextHint(error).during("SELECT \(database) at \(self)")
            }
        } else if password == nil {
            // A Redis that wants a password says so here (NOAUTH), not at the
            // first real command: "connected" means the connection is usable.
            do {
                _ = try connection.command(["PING"])
            } catch {
                throw plainTextHint(error).during("PING at \(self)")
            }
        }
        return connection
    }
}
