public import Hiredis

/// The same test CA for every server of a deployment (sentinels, master,
/// replica, cluster nodes): what each needs to speak TLS only.
extension TestCertificates {
    /// `redis-server` arguments for TLS only on `tlsPort` (`--port 0`: plain
    /// TCP off), and TLS for what the server opens itself: replication, and
    /// a sentinel's links to the master, the replicas and the other sentinels
    /// (Redis 7.0 uses `tls-replication` for those too). `keepPlainPort`:
    /// leave the plain port the caller gave open beside the TLS one.
    public func serverArguments(tlsPort: Int, keepPlainPort: Bool = false) -> [String] {
        (keepPlainPort ? [] : ["--port", "0"]) + [
            "--tls-port", "\(tlsPort)",
            "--tls-cert-file", serverCertificate, "--tls-key-file", serverKey, "--tls-ca-cert-file", caFile,
            "--tls-auth-clients", "no", "--tls-replication", "yes",
        ]
    }

    /// A cluster node's: the cluster bus on TLS too (`tls-cluster`). Redis
    /// always asks for the connecting node's certificate on the bus, and the
    /// server certificate is for serverAuth only: nodes present the client one.
    public func clusterNodeArguments(tlsPort: Int, keepPlainPort: Bool = false) -> [String] {
        serverArguments(tlsPort: tlsPort, keepPlainPort: keepPlainPort) + [
            "--tls-cluster", "yes", "--tls-client-cert-file", clientCertificate, "--tls-client-key-file", clientKey,
        ]
    }

    /// The same as configuration-file lines (a sentinel reads a file).
    public func configurationLines(tlsPort: Int) -> [String] {
        let arguments = serverArguments(tlsPort: tlsPort)
        return stride(from: 0, to: arguments.count - 1, by: 2).map {
            "\(arguments[$0].dropFirst(2)) \(arguments[$0 + 1])"
        }
    }

    /// How a test's own connections trust these servers.
    public var clientTLS: RedisTLS { RedisTLS(caFile: caFile) }

    /// `redis-cli` options for a TLS server of this CA.
    public var cliArguments: [String] { ["--tls", "--cacert", caFile] }
}
