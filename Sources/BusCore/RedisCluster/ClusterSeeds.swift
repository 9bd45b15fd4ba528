import Foundation
public import Hiredis

/// Several cluster nodes in one URL: `redis://[user:pass@]h1:7000,h2:7001[/db]`
/// (or `rediss://`; other schemes, such as a sentinel URL's host list, are
/// left to their own parsers). The first host is
/// the configuration's endpoint, the others its ``RedisConfiguration/seeds``:
/// more places to ask when the first is down.
extension RedisConfiguration {
    /// The configuration of a URL with several hosts; nil for a URL with one.
    static func seeded(url: String) throws(ParseError) -> RedisConfiguration? {
        guard url.hasPrefix("redis://") || url.hasPrefix("rediss://"), let schemeEnd = url.range(of: "://") else {
            return nil
        }
        let scheme = url[..<schemeEnd.upperBound]
        let rest = url[schemeEnd.upperBound...]
        let hostsStart = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        let hostsEnd = rest[hostsStart...].firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let hosts = rest[hostsStart..<hostsEnd]
        guard hosts.contains(",") else { return nil }
        let parts = hosts.split(separator: ",", omittingEmptySubsequences: false)
        guard let first = parts.first, !parts.contains(where: \.isEmpty) else {
            throw ParseError(description: "redis URL '\(url)': an empty host in the list of cluster seeds")
        }
        var configuration = try RedisConfiguration(
            url: String(scheme + rest[..<hostsStart] + first + rest[hostsEnd...])
        )
        for host in parts.dropFirst() {
            // Parsed as a URL of its own so that ports and [IPv6] read the same.
            configuration.seeds.append(try RedisConfiguration(url: String(scheme + host)).endpoint)
        }
        return configuration
    }

    /// `host:port[,host:port...]` as a URL writes them (IPv6 in brackets).
    static func hostList(_ endpoints: [RedisConnection.Endpoint]) -> String {
        endpoints.map { endpoint in
            switch endpoint {
            case .tcp(let host, let port): return "\(host.contains(":") ? "[\(host)]" : host):\(port)"
            case .unix(let path): return path
            }
        }.joined(separator: ",")
    }

    /// The endpoints to try, in order: the URL's host, then the other seeds.
    public var seedEndpoints: [RedisConnection.Endpoint] {
        var all = [endpoint]
        for seed in seeds where !all.contains(seed) { all.append(seed) }
        return all
    }

    /// ``connect(timeout:)`` to the first server that answers: the cluster
    /// masters this process last saw (``ClusterNodeBook``), the URL's host,
    /// the other seeds, then the replicas it saw. A standalone Redis has one
    /// place: this is ``connect(timeout:)`` there. Refused credentials end
    /// the search (every node would refuse them); a TLS failure is thrown
    /// before a seed that did not answer.
    public func connectAnyNode(timeout: Duration = .seconds(2)) throws(RedisError) -> RedisConnection {
        // With Sentinel the sentinels name the one server to use.
        if sentinel != nil { return try connect(timeout: timeout) }
        let known = ClusterNodeBook.shared.nodes(of: self)
        var candidates: [RedisConnection.Endpoint] = []
        for endpoint in known.masters + seedEndpoints + known.replicas where !candidates.contains(endpoint) {
            candidates.append(endpoint)
        }
        var firstError: RedisError?
        var tlsError: RedisError?
        for endpoint in candidates {
            do {
                return try connect(to: endpoint, timeout: timeout)
            } catch {
                if error.isAuthenticationFailure { throw error }
                if firstError == nil { firstError = error }
                // A seed that is down must not hide one whose certificate
                // fails: that one says what to fix (busd refuses to start).
                if error.code == .tls, tlsError == nil { tlsError = error }
            }
        }
        throw tlsError ?? firstError ?? RedisError(.io, "no Redis endpoint to connect to")
    }
}
