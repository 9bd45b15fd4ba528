public import ArgumentParser

/// The `redis.tls_*` flags, shared by busd and busctl.
public struct RedisTLSOptions: ParsableArguments {
    @Option(name: .customLong("redis-tls-ca-file"), help: "PEM file of the CAs trusted for Redis (redis.tls_ca_file).")
    var caFile: String?

    @Option(name: .customLong("redis-tls-cert-file"), help: "PEM client certificate for mutual TLS (redis.tls_cert_file).")
    var certificateFile: String?

    @Option(name: .customLong("redis-tls-key-file"), help: "PEM key of the client certificate (redis.tls_key_file).")
    var keyFile: String?

    @Option(
        name: .customLong("redis-tls-server-name"),
        help: "Name sent as SNI and checked in Redis's certificate (redis.tls_server_name; default the host)."
    )
    var serverName: String?

    @Option(name: .customLong("redis-tls-verify"), help: "required (default) or none (redis.tls_verify).")
    var verify: String?

    public init() {}

    /// The flags given, by setting key.
    public var flagValues: [String: [String]] {
        let pairs: [(String, String?)] = [
            ("redis.tls_ca_file", caFile), ("redis.tls_cert_file", certificateFile), ("redis.tls_key_file", keyFile),
            ("redis.tls_server_name", serverName), ("redis.tls_verify", verify),
        ]
        var given: [String: [String]] = [:]
        for case (let key, let value?) in pairs { given[key] = [value] }
        return given
    }
}
