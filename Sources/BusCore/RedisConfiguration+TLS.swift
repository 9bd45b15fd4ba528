public import Hiredis

/// `rediss://[[user]:password@]host[:port][/db][?options]`: TLS, with the
/// query options named as redis-py names them.
extension RedisConfiguration {
    /// The query options of a `rediss://` URL.
    public enum TLSOption: String, CaseIterable, Sendable {
        /// PEM file of the CAs to trust (else the system's store).
        case caFile = "ssl_ca_certs"
        /// PEM client certificate (mutual TLS).
        case certificateFile = "ssl_certfile"
        /// PEM key of the client certificate.
        case keyFile = "ssl_keyfile"
        /// `required` (the default) or `none`.
        case verify = "ssl_cert_reqs"
        /// The name sent as SNI and checked in the certificate (else the host).
        case serverName = "ssl_server_hostname"
    }

    init(tlsURL url: String) throws(ParseError) {
        let rest = url.dropFirst("rediss://".count)
        // The query starts after the credentials: a password may hold '?'.
        let searchFrom = rest.lastIndex(of: "@") ?? rest.startIndex
        var base = rest
        var query: Substring = ""
        if let mark = rest[searchFrom...].firstIndex(of: "?") {
            base = rest[..<mark]
            query = rest[rest.index(after: mark)...]
        }
        try self.init(url: "redis://" + base)
        tls = try Self.tlsOptions(query: query)
    }

    /// The TLS options of a URL's query (`ssl_ca_certs=...&ssl_cert_reqs=none`),
    /// for every URL form that takes them (`rediss://`, and the Sentinel
    /// form's TLS variant); an unknown option is an error.
    public static func tlsOptions(query: Substring) throws(ParseError) -> RedisTLS {
        var tls = RedisTLS()
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count == 2 ? percentDecoded(String(parts[1])) : ""
            guard let option = TLSOption(rawValue: key) else {
                let known = TLSOption.allCases.map(\.rawValue).joined(separator: ", ")
                throw ParseError(description: "rediss URL: unknown option '\(key)' (known: \(known))")
            }
            if option != .verify && value.isEmpty {
                throw ParseError(description: "rediss URL: \(key) needs a value")
            }
            switch option {
            case .caFile: tls.caFile = value
            case .certificateFile: tls.certificateFile = value
            case .keyFile: tls.keyFile = value
            case .serverName: tls.serverName = value
            case .verify:
                guard let verify = verifyPeer(value) else {
                    throw ParseError(description: "rediss URL: ssl_cert_reqs must be required or none, got '\(value)'")
                }
                tls.verifyPeer = verify
            }
        }
        return tls
    }

    /// `required` → true, `none` → false (as redis-py's `ssl_cert_reqs`); nil otherwise.
    public static func verifyPeer(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "required": return true
        case "none": return false
        default: return nil
        }
    }

    /// A plain-text connection that a server closes at the first command
    /// is most often one to a TLS port: say so.
    func plainTextHint(_ error: RedisError) -> RedisError {
        let closed = error.code == .eof || (error.code == .io && error.message.contains("reset by peer"))
        guard tls == nil, closed, case .tcp = endpoint else { return error }
        return RedisError(
            error.code, "\(error.message) (if this is a TLS port, use rediss://)", context: error.context)
    }
}
