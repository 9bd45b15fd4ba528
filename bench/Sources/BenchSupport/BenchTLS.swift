import Foundation

/// A throw-away CA and server certificate (for `localhost`) made with the
/// `openssl` command line, and the redis-server arguments that open a TLS
/// port with them beside the plain ones: the benches' `rediss://` transport.
public struct BenchTLS {
    public let directory: String
    public let port: Int

    public init(directory: String) throws {
        self.directory = directory
        port = BenchRedis.freePort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = ["-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        try run(["req", "-x509", "-new"] + key + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=bench CA"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try run(["req", "-new"] + key + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "server.crt", "-days", "2", "-extfile", "server.ext",
        ])
    }

    /// For ``BenchRedis/init(extraArguments:)``.
    public var serverArguments: [String] {
        [
            "--tls-port", "\(port)", "--tls-cert-file", directory + "/server.crt", "--tls-key-file",
            directory + "/server.key", "--tls-ca-cert-file", directory + "/ca.crt", "--tls-auth-clients", "no",
        ]
    }

    /// Verified TLS to the server, by name.
    public var url: String { "rediss://localhost:\(port)?ssl_ca_certs=\(directory)/ca.crt" }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw POSIXError(.EINVAL) }
    }
}
