import BusConfig
import BusCore
import BusOptions
import Hiredis
import Testing

/// The `redis.tls_*` settings: laid over a `rediss://` URL's options from
/// any layer, refused with any other URL and when the URL sets the same.
@Suite("Redis TLS settings")
struct RedisTLSSettingsTests {
    @Test func settingsFromEachLayerFillTheTLSOptions() throws {
        let file = try ConfigFile(
            path: "busd.yaml",
            text: "redis:\n  url: rediss://redis.internal:6380\n  tls_ca_file: /etc/socketbus/ca.pem\n"
        )
        let settings = ResolvedSettings(
            flags: ["redis.tls_server_name": ["redis.example.com"]],
            environment: [
                "SOCKETBUS_REDIS_TLS_CERT_FILE": "/c.pem", "SOCKETBUS_REDIS_TLS_KEY_FILE": "/k.pem",
                "SOCKETBUS_REDIS_TLS_VERIFY": "none",
            ],
            file: file
        )
        let redis = try settings.redisConfiguration()
        #expect(redis.endpoint == .tcp(host: "redis.internal", port: 6380))
        #expect(
            redis.tls
                == RedisTLS(
                    caFile: "/etc/socketbus/ca.pem", certificateFile: "/c.pem", keyFile: "/k.pem",
                    serverName: "redis.example.com", verifyPeer: false)
        )
        let defaults = try ResolvedSettings(
            flags: ["redis.url": ["rediss://h"]], environment: [:], file: nil
        ).redisConfiguration()
        #expect(defaults.tls == RedisTLS())
    }

    @Test func tlsSettingsWithAPlainURLAreAnError() {
        let settings = ResolvedSettings(
            flags: ["redis.url": ["redis://h:6379"], "redis.tls_ca_file": ["/ca.pem"]], environment: [:], file: nil
        )
        let error = #expect(throws: ConfigError.self) { _ = try settings.redisConfiguration() }
        #expect(error?.description.contains("--redis-tls-ca-file") == true, "\(String(describing: error))")
        #expect(error?.description.contains("applies to a rediss:// URL only") == true, "\(String(describing: error))")
    }

    @Test func anOptionInBothTheURLAndASettingIsAnError() {
        let settings = ResolvedSettings(
            flags: ["redis.url": ["rediss://:Pw-3c1d@h?ssl_ca_certs=/a.pem"]],
            environment: ["SOCKETBUS_REDIS_TLS_CA_FILE": "/b.pem"],
            file: nil
        )
        let error = #expect(throws: ConfigError.self) { _ = try settings.redisConfiguration() }
        #expect(error?.description.contains("SOCKETBUS_REDIS_TLS_CA_FILE") == true, "\(String(describing: error))")
        #expect(error?.description.contains("redis.url sets ssl_ca_certs too") == true, "\(String(describing: error))")
        #expect(error?.description.contains("Pw-3c1d") == false)
    }

    @Test func aBadVerifyValueIsRefused() {
        let settings = ResolvedSettings(
            flags: ["redis.url": ["rediss://h"], "redis.tls_verify": ["maybe"]], environment: [:], file: nil
        )
        let error = #expect(throws: ConfigError.self) { _ = try settings.redisConfiguration() }
        #expect(error?.description.contains("'maybe' is not required or none") == true, "\(String(describing: error))")
    }
}
