import Foundation
import Glibc
import Hiredis
import Testing
import TestSupport

/// RedisConnection over TLS (OpenSSL under hiredis's codec) against a real
/// redis-server with `--tls-port` and a CA the test makes.
@Suite("hiredis connection over TLS", .serialized)
struct TLSConnectionTests {
    static func endpoint(_ server: TLSRedisTestServer, host: String = "127.0.0.1") -> RedisConnection.Endpoint {
        .tcp(host: host, port: server.tlsPort)
    }

    static func trusting(_ server: TLSRedisTestServer) -> RedisTLS {
        RedisTLS(caFile: server.certificates.caFile)
    }

    @Test func aVerifiedConnectionWorksByAddressAndByName() throws {
        let server = try TLSRedisTestServer()
        for host in ["127.0.0.1", "localhost"] {
            let redis = try RedisConnection(endpoint: Self.endpoint(server, host: host), tls: Self.trusting(server))
            #expect(try redis.command(["PING"]) == .status("PONG"))
            #expect(try redis.command(["SET", "k", host]) == .status("OK"))
            #expect(try redis.command(["GET", "k"]) == .bulk(Array(host.utf8)))
        }
        // It really is TLS: the server has no plain TCP port at all.
        let plain = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: server.server.port), timeout: .seconds(1))
        }
        #expect(plain?.code == .io)
    }

    @Test func withoutTheCAVerificationFailsAndSaysWhy() throws {
        let server = try TLSRedisTestServer()
        // No CA file: the system's store, which does not hold the test CA.
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: Self.endpoint(server), tls: RedisTLS())
        }
        #expect(error?.code == .tls)
        // The reason is OpenSSL's: "self-signed certificate in certificate chain" when Redis sends its CA.
        #expect(error?.message.contains("TLS handshake with 127.0.0.1:\(server.tlsPort): certificate verify failed: ") == true, "\(String(describing: error))")
    }

    @Test func aWrongHostNameFailsVerification() throws {
        let server = try TLSRedisTestServer()
        var tls = Self.trusting(server)
        tls.serverName = "redis.example.com"
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: Self.endpoint(server), tls: tls)
        }
        #expect(error?.code == .tls)
        #expect(error?.message.contains("certificate verify failed: hostname mismatch") == true, "\(String(describing: error))")
        // The name it does carry passes, though the address connected to is the same.
        tls.serverName = "localhost"
        let redis = try RedisConnection(endpoint: Self.endpoint(server), tls: tls)
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test func verificationOffConnectsWithoutTheCA() throws {
        let server = try TLSRedisTestServer()
        let redis = try RedisConnection(
            endpoint: Self.endpoint(server),
            tls: RedisTLS(serverName: "redis.example.com", verifyPeer: false)
        )
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test func mutualTLSRefusesAConnectionWithoutAClientCertificateClearly() throws {
        let server = try TLSRedisTestServer(authClients: true)
        // TLS 1.3: the client's handshake completes; the refusal arrives at the first read.
        let error = #expect(throws: RedisError.self) {
            let redis = try RedisConnection(endpoint: Self.endpoint(server), tls: Self.trusting(server))
            _ = try redis.command(["PING"])
        }
        #expect(error?.code == .tls)
        #expect(error?.message.contains("requires a client certificate and none was given") == true, "\(String(describing: error))")
        var tls = Self.trusting(server)
        tls.certificateFile = server.certificates.clientCertificate
        tls.keyFile = server.certificates.clientKey
        let redis = try RedisConnection(endpoint: Self.endpoint(server), tls: tls)
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test func aMismatchedOrMissingClientKeyIsAConfigurationError() throws {
        let server = try TLSRedisTestServer()
        var tls = Self.trusting(server)
        tls.certificateFile = server.certificates.clientCertificate
        let missing = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: Self.endpoint(server), tls: tls)
        }
        #expect(missing?.message.contains("needs its key") == true)
        tls.keyFile = server.certificates.serverKey
        let mismatched = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: Self.endpoint(server), tls: tls)
        }
        #expect(mismatched?.message.contains("cannot use the client key") == true, "\(String(describing: mismatched))")
        #expect(mismatched?.message.contains("key values mismatch") == true, "\(String(describing: mismatched))")
    }

    @Test func pipelinesAndLargeRepliesCrossTLS() throws {
        let server = try TLSRedisTestServer()
        let redis = try RedisConnection(endpoint: Self.endpoint(server), tls: Self.trusting(server))
        let replies = try redis.pipeline((0..<5000).map { ["INCRBY", "counter", "\($0)"] })
        #expect(replies.count == 5000)
        #expect(replies.last == .integer(Int64((0..<5000).reduce(0, +))))
        // 6 MB in one bulk reply, and 6 MB in one command (several TLS records each way).
        let big = (0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        #expect(try redis.command([Array("SET".utf8), Array("big".utf8), big]) == .status("OK"))
        #expect(try redis.command(["GET", "big"]) == .bulk(big))
        // A large array of replies: 20000 elements of 300 bytes.
        let value = String(repeating: "v", count: 300)
        try redis.pipeline((0..<20).map { batch in ["RPUSH", "list"] + (0..<1000).map { "\(batch)-\($0)-\(value)" } })
        guard case .array(let elements) = try redis.command(["LRANGE", "list", "0", "-1"]) else {
            Issue.record("LRANGE is not an array")
            return
        }
        #expect(elements.count == 20000)
        #expect(elements.last?.string == "19-999-\(value)")
    }

    @Test func pubSubMessagesArriveThroughTheInbox() throws {
        let server = try TLSRedisTestServer()
        let subscriber = try RedisConnection(endpoint: Self.endpoint(server), tls: Self.trusting(server))
        let publisher = try RedisConnection(endpoint: Self.endpoint(server), tls: Self.trusting(server))
        #expect(try subscriber.command(["SUBSCRIBE", "ch"]) == .array([.bulk(Array("subscribe".utf8)), .bulk(Array("ch".utf8)), .integer(1)]))
        try subscriber.append(["PSUBSCRIBE", "c*"])
        try subscriber.flush()
        let count = 30000
        for batch in 0..<(count / 1000) {
            try publisher.pipeline((0..<1000).map { ["PUBLISH", "ch", "message \(batch * 1000 + $0) " + String(repeating: "x", count: 100)] })
        }
        // Each message arrives twice: as a `message` of "ch" and a `pmessage` of "c*".
        var received: [String] = []
        var others: [RedisReply] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while received.count < 2 * count && ContinuousClock.now < deadline {
            guard try subscriber.waitReadable(timeout: .milliseconds(200)) else { continue }
            try subscriber.readAvailable()
            while true {
                var channel = ""
                var payload = ""
                let next = try subscriber.nextBufferedMessage { c, p in
                    channel = String(decoding: c, as: UTF8.self)
                    payload = String(decoding: p, as: UTF8.self)
                }
                if case .none = next { break }
                if case .other(let reply) = next { others.append(reply) }
                if case .message = next {
                    #expect(channel == "ch")
                    received.append(payload)
                }
            }
        }
        #expect(received.count == 2 * count)
        let distinct = Set(received)
        #expect(distinct.count == count)
        #expect(distinct.contains("message \(count - 1) " + String(repeating: "x", count: 100)))
        #expect(others == [.array([.bulk(Array("psubscribe".utf8)), .bulk(Array("c*".utf8)), .integer(2)])])
    }

    // MARK: Hostile peers

    @Test func tlsSpokenToAPlainTextServerFailsClearlyWithinTheTimeout() throws {
        let server = try RedisTestServer()
        let started = ContinuousClock.now
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(
                endpoint: .tcp(host: "127.0.0.1", port: server.port),
                timeout: .seconds(1),
                tls: RedisTLS(verifyPeer: false)
            )
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        // Redis reads the hello as the start of an inline command and waits for its end.
        #expect(error?.code == .timeout, "\(String(describing: error))")
        #expect(error?.message.contains("TLS handshake with 127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
        #expect(error?.message.contains("is this a TLS port?") == true, "\(String(describing: error))")
        // The server is unharmed.
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test func plainTextSpokenToATLSServerFailsClearlyWithinTheTimeout() throws {
        let server = try TLSRedisTestServer()
        let started = ContinuousClock.now
        let error = #expect(throws: RedisError.self) {
            let redis = try RedisConnection(endpoint: Self.endpoint(server), timeout: .seconds(1))
            _ = try redis.command(["PING"])
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        // Redis's TLS side resets the connection on the first byte that is not a TLS record.
        #expect(error?.code == .io || error?.code == .eof, "\(String(describing: error))")
    }

    @Test func aServerDrippingBytesCannotStretchTheHandshakePastTheTimeout() throws {
        // The start of a TLS record, then one byte every 100 ms for 6 s: each
        // read alone would finish well within the time-out.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        #expect(listen(fd, 4) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let dripper = Thread {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            var record: [UInt8] = [0x16, 0x03, 0x03, 0x40, 0x00]
            _ = send(client, &record, record.count, Int32(MSG_NOSIGNAL))
            for _ in 0..<60 {
                var byte: UInt8 = 0x02
                if send(client, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { return }
                usleep(100_000)
            }
        }
        dripper.start()
        let started = ContinuousClock.now
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port), timeout: .seconds(1), tls: RedisTLS(verifyPeer: false))
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .milliseconds(2500), "\(elapsed)")
        #expect(error?.code == .timeout, "\(String(describing: error))")
        #expect(error?.message.contains("TLS handshake with 127.0.0.1:\(port): timed out after") == true, "\(String(describing: error))")
    }

    @Test func aSilentServerTimesOutTheHandshake() throws {
        // A listening socket nobody accepts from: the kernel completes the TCP
        // handshake, then nothing ever answers the TLS hello.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        #expect(listen(fd, 4) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let started = ContinuousClock.now
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port), timeout: .milliseconds(500), tls: RedisTLS(verifyPeer: false))
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(2), "\(elapsed)")
        #expect(error?.code == .timeout, "\(String(describing: error))")
        #expect(error?.message.contains("TLS handshake") == true)
    }
}
