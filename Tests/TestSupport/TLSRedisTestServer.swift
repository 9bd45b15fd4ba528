public import Foundation
import Glibc

/// A test certificate authority made with the `openssl` command line in a
/// temporary directory: a server certificate for `localhost` and
/// `127.0.0.1`, and a client certificate for mutual TLS.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caFile: String { path("ca.crt") }
    public var serverCertificate: String { path("server.crt") }
    public var serverKey: String { path("server.key") }
    public var clientCertificate: String { path("client.crt") }
    public var clientKey: String { path("client.key") }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Makes the CA and both certificates (EC P-256: about 30 ms).
    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bustls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let newKey = ["-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        try openssl(["req", "-x509", "-new"] + newKey + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=socketbus test CA"])
        try sign("server", subject: "/CN=localhost", extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        try sign("client", subject: "/CN=socketbus-test-client", extensions: "extendedKeyUsage=clientAuth\n")
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func sign(_ name: String, subject: String, extensions: String) throws {
        try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext"])
    }

    private func openssl(_ arguments: [String]) throws {
        guard let executable = RedisTestServer.which("openssl") else { throw Failure(description: "openssl is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.joined(separator: " ")): \(text)")
        }
    }
}

/// A `redis-server` that speaks TLS only on its TCP port (`--port 0
/// --tls-port N`), with certificates of a ``TestCertificates`` CA. Its Unix
/// socket stays plain: tests set up and inspect Redis through it.
public final class TLSRedisTestServer: @unchecked Sendable {
    public let certificates: TestCertificates
    /// The server itself (its `port` is unused: plain TCP is off).
    public let server: RedisTestServer
    public let tlsPort: Int

    /// `authClients`: Redis asks for a client certificate (`--tls-auth-clients yes`).
    public init(authClients: Bool = false, extraArguments: [String] = []) throws {
        // A TLS write to a peer that went away must be an error, not SIGPIPE (busd ignores it too).
        signal(SIGPIPE, SIG_IGN)
        certificates = try TestCertificates()
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try FreePort.find()
            do {
                // Later arguments win in Redis's configuration: `--port 0` turns plain TCP off.
                server = try RedisTestServer(
                    extraArguments: [
                        "--port", "0", "--tls-port", "\(port)",
                        "--tls-cert-file", certificates.serverCertificate, "--tls-key-file", certificates.serverKey,
                        "--tls-ca-cert-file", certificates.caFile, "--tls-auth-clients", authClients ? "yes" : "no",
                    ] + extraArguments
                )
                tlsPort = port
                return
            } catch {
                lastError = error
            }
        }
        certificates.remove()
        throw lastError ?? TestCertificates.Failure(description: "redis-server with TLS did not start")
    }

    deinit { stop() }

    public func stop() {
        server.stop()
        certificates.remove()
    }

    /// `rediss://` to `host` with the test CA; `options` are more query options.
    public func url(host: String = "127.0.0.1", options: String = "") -> String {
        "rediss://\(host):\(tlsPort)?ssl_ca_certs=\(certificates.caFile)\(options.isEmpty ? "" : "&" + options)"
    }

    /// The client certificate and key as URL options (mutual TLS).
    public var clientCertificateOptions: String {
        "ssl_certfile=\(certificates.clientCertificate)&ssl_keyfile=\(certificates.clientKey)"
    }
}
