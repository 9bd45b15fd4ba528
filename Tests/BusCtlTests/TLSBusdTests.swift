import Foundation
import Hiredis
import LocalProtocol
import Testing
import TestSupport

/// busd and busctl against a redis-server that speaks TLS only, with a test
/// CA, requiring client certificates (mutual TLS).
@Suite("busd and busctl over TLS", .serialized)
struct TLSBusdTests {
    /// busctl's environment: the TLS settings as variables (the layer busd's unit would use).
    static func environment(_ tls: TLSRedisTestServer, clientCertificate: Bool = true) -> [String: String] {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "SOCKETBUS_REDIS_URL": "rediss://localhost:\(tls.tlsPort)",
            "SOCKETBUS_REDIS_TLS_CA_FILE": tls.certificates.caFile,
        ]
        if clientCertificate {
            environment["SOCKETBUS_REDIS_TLS_CERT_FILE"] = tls.certificates.clientCertificate
            environment["SOCKETBUS_REDIS_TLS_KEY_FILE"] = tls.certificates.clientKey
        }
        return environment
    }

    /// busd with the TLS settings as flags, and a node on its socket.
    final class TLSBusd {
        let tls: TLSRedisTestServer
        let process = Process()
        let node: TestNodeClient
        let standardError = Pipe()

        init() throws {
            tls = try TLSRedisTestServer(authClients: true)
            let socketPath = tls.server.directory.appendingPathComponent("busd.sock").path
            process.executableURL = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
            process.arguments = [
                "--redis", "rediss://localhost:\(tls.tlsPort)", "--redis-tls-ca-file", tls.certificates.caFile,
                "--redis-tls-cert-file", tls.certificates.clientCertificate,
                "--redis-tls-key-file", tls.certificates.clientKey,
                "--node-id", "tls-1", "--log-level", "error", "--socket", socketPath, "--http", "off",
            ]
            process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            process.standardError = standardError
            try process.run()
            do {
                var connected: TestNodeClient?
                guard eventually({
                    connected = try? TestNodeClient(path: socketPath)
                    return connected != nil
                }), let connected else {
                    throw POSIXError(.ECONNREFUSED)
                }
                node = connected
                _ = try node.handshake()
            } catch {
                process.terminate()
                process.waitUntilExit()
                throw error
            }
        }

        deinit {
            process.interrupt()
            process.waitUntilExit()
        }
    }

    @Test func busdRoutesABroadcastAndWritesItsRegistryOverTLS() throws {
        let busd = try TLSBusd()
        let environment = Self.environment(busd.tls)
        busd.node.send(.socketConnect(namespace: "/", socketId: "tls-sock-1", connectedAt: UInt64(Date().timeIntervalSince1970 * 1000)))
        busd.node.send(.socketJoin(namespace: "/", socketId: "tls-sock-1", rooms: ["tls-sock-1", "lobby"]))
        // The registry, written by busd over TLS, read by busctl over TLS.
        var found: InspectCommandTests.Result?
        #expect(eventually {
            found = try? InspectCommandTests.run(["find-socket", "--json", "tls-sock-1"], environment: environment)
            return found?.status == 0
        }, "\(String(describing: found))")
        #expect(found?.stdout.contains(#""node":"tls-1""#) == true, "\(String(describing: found))")
        let nodes = try InspectCommandTests.run(["nodes"], environment: environment)
        #expect(nodes.status == 0 && nodes.stdout.contains("tls-1"), "\(nodes.stdout)\(nodes.stderr)")
        // And what the plain Unix socket of the same server holds agrees: it is the same Redis.
        let admin = try RedisConnection(endpoint: .unix(path: busd.tls.server.socketPath))
        guard case .array(let keys) = try admin.command(["KEYS", "socketbus*"]) else {
            Issue.record("KEYS is not an array")
            return
        }
        #expect(!keys.isEmpty)
        // A broadcast published by busctl over TLS reaches busd's subscriber
        // over TLS and is delivered to the node; the ack comes back the same way.
        let emit = Process()
        emit.executableURL = InspectCommandTests.binary
        emit.arguments = ["emit", "news", "7", "--to", "lobby", "--wait-ack", "--timeout", "5s"]
        emit.environment = environment
        let output = Pipe()
        emit.standardOutput = output
        emit.standardError = output
        try emit.run()
        guard case .deliver(let ackId, _, _, let sockets, let packet, _)? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no DELIVER over TLS")
            return
        }
        #expect(sockets == ["tls-sock-1"])
        #expect(packet == Array("2\(ackId)[\"news\",7]".utf8))
        busd.node.send(.acked(ackId: ackId, socketId: "tls-sock-1", status: .delivered, arguments: Array("[]".utf8)))
        let result = DeliveryCommandTests.finish((emit, output))
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func busctlWithoutAClientCertificateIsRefusedClearly() throws {
        let tls = try TLSRedisTestServer(authClients: true)
        let result = try InspectCommandTests.run(["nodes"], environment: Self.environment(tls, clientCertificate: false))
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("requires a client certificate and none was given"), "\(result.stderr)")
    }

    @Test func busdRefusesToStartWhenTheCertificateFailsVerification() throws {
        let tls = try TLSRedisTestServer()
        let socketPath = tls.server.directory.appendingPathComponent("busd.sock").path
        // No CA given: the system's store does not know the test CA.
        let result = try InspectCommandTests.run(
            [
                "--redis", "rediss://:Pw-91bb@localhost:\(tls.tlsPort)", "--node-id", "tls-2", "--socket", socketPath,
                "--http", "off", "--log-level", "error",
            ],
            executable: InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd"),
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        )
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("certificate verify failed"), "\(result.stderr)")
        #expect(!result.stderr.contains("Pw-91bb"), "\(result.stderr)")
    }
}
