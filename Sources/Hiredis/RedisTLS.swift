/// How a connection speaks TLS (a `rediss://` URL): whom to trust, who
/// this side is (mutual TLS), and which name the server must prove.
///
/// Verification is on unless ``verifyPeer`` is false: the server's chain
/// must lead to ``caFile`` (or to the system's store when none is given),
/// and its certificate must name ``serverName`` (or the host connected to).
public struct RedisTLS: Sendable, Hashable {
    /// PEM file of the certificate authorities trusted; nil: the system's store.
    public var caFile: String?
    /// PEM certificate (chain) this side presents, for servers that ask for one.
    public var certificateFile: String?
    /// PEM private key of ``certificateFile``.
    public var keyFile: String?
    /// The name sent as SNI and checked against the server's certificate;
    /// nil: the host of the endpoint connected to.
    public var serverName: String?
    /// False skips every check of the server's certificate (test setups only).
    public var verifyPeer: Bool

    public init(
        caFile: String? = nil,
        certificateFile: String? = nil,
        keyFile: String? = nil,
        serverName: String? = nil,
        verifyPeer: Bool = true
    ) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
        self.verifyPeer = verifyPeer
    }
}
