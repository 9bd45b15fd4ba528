import BusCore
import Hiredis
import Testing
import TestSupport

/// `rediss://` URLs and ``RedisConfiguration/connect(to:timeout:)`` over TLS,
/// against a real redis-server with `--tls-port`.
@Suite("Redis configuration with TLS", .serialized)
struct RedisTLSConfigurationTests {
    @Test func rediSSURLsTakeRedisPysOptions() throws {
        let plain = try RedisConfiguration(url: "redis://h:1/2")
        #expect(plain.tls == nil)
        let bare = try RedisConfiguration(url: "rediss://redis.example.com")
        #expect(bare.endpoint == .tcp(host: "redis.example.com", port: 6379))
        #expect(bare.tls == RedisTLS())
        #expect(bare.tls?.verifyPeer == true)
        let full = try RedisConfiguration(
            url: "rediss://alice:p%3Fw@10.0.0.5:6380/3?ssl_ca_certs=/etc/ca.pem&ssl_certfile=/etc/c.pem"
                + "&ssl_keyfile=/etc/k%20ey.pem&ssl_cert_reqs=none&ssl_server_hostname=redis.internal"
        )
        #expect(full.endpoint == .tcp(host: "10.0.0.5", port: 6380))
        #expect(full.username == "alice" && full.password == "p?w" && full.database == 3)
        #expect(
            full.tls
                == RedisTLS(
                    caFile: "/etc/ca.pem", certificateFile: "/etc/c.pem", keyFile: "/etc/k ey.pem",
                    serverName: "redis.internal", verifyPeer: false)
        )
        #expect(full.description == "rediss://alice:***@10.0.0.5:6380/3")
        // A '?' in the password is not the query.
        let questionMark = try RedisConfiguration(url: "rediss://:a?b@h:7000?ssl_cert_reqs=required")
        #expect(questionMark.password == "a?b" && questionMark.endpoint == .tcp(host: "h", port: 7000))
    }

    @Test(arguments: [
        ("rediss://:pw-e81d@h?ssl_verify=no", "unknown option 'ssl_verify'"),
        ("rediss://:pw-e81d@h?ssl_cert_reqs=optional", "ssl_cert_reqs must be required or none"),
        ("rediss://:pw-e81d@h?ssl_ca_certs=", "ssl_ca_certs needs a value"),
        ("rediss://:pw-e81d@h:99999", "port"),
        ("redisss://:pw-e81d@h", "must start with redis://, rediss://, redis+sentinel://, rediss+sentinel:// or unix://"),
    ])
    func badURLsSayWhatIsWrongWithoutThePassword(url: String, expected: String) {
        let error = #expect(throws: RedisConfiguration.ParseError.self) { _ = try RedisConfiguration(url: url) }
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
        #expect(error?.description.contains("pw-e81d") == false, "\(String(describing: error))")
    }

    @Test func connectLogsInOverTLS() throws {
        let tls = try TLSRedisTestServer(extraArguments: ["--requirepass", "Pw-5e1c"])
        let configuration = try RedisConfiguration(
            url: "rediss://:Pw-5e1c@localhost:\(tls.tlsPort)?ssl_ca_certs=\(tls.certificates.caFile)"
        )
        let redis = try configuration.connect()
        #expect(try redis.command(["PING"]) == .status("PONG"))
        // A refused password is the server's error reply, over TLS too, and never shows the password.
        var wrong = configuration
        wrong.password = "Wrong-77aa"
        let error = #expect(throws: RedisError.self) { _ = try wrong.connect() }
        #expect(error?.isAuthenticationFailure == true)
        #expect(error.map { "\($0)" }?.contains("Wrong-77aa") == false)
        #expect(error.map { "\($0)" }?.contains("rediss://:***@localhost:\(tls.tlsPort)") == true, "\(String(describing: error))")
    }

    /// Sentinels' masters and cluster nodes are reached through connect(to:):
    /// same TLS, verified as the endpoint connected to, unless a server name is set.
    @Test func connectToAnotherEndpointVerifiesThatEndpoint() throws {
        let tls = try TLSRedisTestServer()
        // The URL's own host has no certificate here; the endpoint connected to does.
        let configuration = try RedisConfiguration(url: "rediss://other.example:1?ssl_ca_certs=\(tls.certificates.caFile)")
        for host in ["localhost", "127.0.0.1"] {
            let redis = try configuration.connect(to: .tcp(host: host, port: tls.tlsPort))
            #expect(try redis.command(["PING"]) == .status("PONG"))
        }
        var named = configuration
        named.tls?.serverName = "other.example"
        let error = #expect(throws: RedisError.self) { _ = try named.connect(to: .tcp(host: "localhost", port: tls.tlsPort)) }
        #expect(error?.message.contains("certificate verify failed: hostname mismatch") == true, "\(String(describing: error))")
    }

    @Test func plainTextToATLSPortSuggestsRediss() throws {
        let tls = try TLSRedisTestServer()
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(tls.tlsPort)")
        let error = #expect(throws: RedisError.self) { _ = try configuration.connect(timeout: .seconds(1)) }
        #expect(error.map { "\($0)" }?.contains("if this is a TLS port, use rediss://") == true, "\(String(describing: error))")
    }
}
