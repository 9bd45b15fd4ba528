public import BusConfig
public import BusCore
import Hiredis

extension ResolvedSettings {
    /// The `redis.tls_*` settings, laid over the TLS options of a
    /// `rediss://` URL. With any other URL they are an error (TLS is asked
    /// for by the scheme, so a CA file given to a plain URL is a mistake),
    /// and so is an option given both in the URL and as a setting.
    func applyTLSSettings(to redis: inout RedisConfiguration) throws(ConfigError) {
        let keys: [(key: String, option: RedisConfiguration.TLSOption)] = [
            ("redis.tls_ca_file", .caFile), ("redis.tls_cert_file", .certificateFile),
            ("redis.tls_key_file", .keyFile), ("redis.tls_server_name", .serverName), ("redis.tls_verify", .verify),
        ]
        let given = keys.filter { isSet($0.key) }
        guard var tls = redis.tls else {
            if let first = given.first {
                throw invalid(first.key, "applies to a rediss:// URL only; redis.url is not one")
            }
            return
        }
        let defaults = RedisTLS()
        for (key, option) in given {
            guard let text = try string(key) else { continue }
            switch option {
            case .caFile:
                try once(key, option, tls.caFile != defaults.caFile)
                tls.caFile = text
            case .certificateFile:
                try once(key, option, tls.certificateFile != defaults.certificateFile)
                tls.certificateFile = text
            case .keyFile:
                try once(key, option, tls.keyFile != defaults.keyFile)
                tls.keyFile = text
            case .serverName:
                try once(key, option, tls.serverName != defaults.serverName)
                tls.serverName = text
            case .verify:
                try once(key, option, tls.verifyPeer != defaults.verifyPeer)
                guard let verify = RedisConfiguration.verifyPeer(text) else {
                    throw invalid(key, "'\(text)' is not required or none")
                }
                tls.verifyPeer = verify
            }
        }
        redis.tls = tls
    }

    private func once(_ key: String, _ option: RedisConfiguration.TLSOption, _ inURL: Bool) throws(ConfigError) {
        if inURL { throw invalid(key, "redis.url sets \(option.rawValue) too: give one") }
    }
}
