public import BusConfig
public import BusCore

extension ResolvedSettings {
    /// Where Redis is and how to log in, for busd and busctl alike:
    /// `redis.url`, with the password of `redis.password_file` or
    /// `redis.password` (a URL carrying one too is an error: which would win
    /// is a guess). The URL's password never shows in the error.
    public func redisConfiguration() throws(ConfigError) -> RedisConfiguration {
        let url = try value("redis.url")
        var redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: url)
        } catch {
            throw invalid("redis.url", error.description)
        }
        // The file is for what may be read by anyone who reads the config:
        // a password there is refused, as redis.password is.
        if redis.password != nil || redis.sentinel?.password != nil, case .file? = self["redis.url"]?.source {
            throw invalid(
                "redis.url",
                "a password in the config file is refused: use redis.password_file or SOCKETBUS_REDIS_PASSWORD"
            )
        }
        if let (password, source) = try secret("redis.password") {
            if redis.password != nil {
                throw ConfigError(
                    key: "redis.password",
                    source: source,
                    reason: "redis.url carries a password too: give one"
                )
            }
            redis.password = password
        }
        try applySentinelSettings(to: &redis)
        try applyTLSSettings(to: &redis)
        return redis
    }

    /// Where the Redis password came from, for messages about refused
    /// credentials: "none was given" when nothing sets one.
    public var redisPasswordOrigin: String {
        if let source = self["redis.password_file"]?.source { return "redis.password_file (\(source))" }
        if let source = self["redis.password"]?.source { return "redis.password (\(source))" }
        if let source = self["redis.url"]?.source, (try? redisConfiguration())?.password != nil {
            return "the password in redis.url (\(source))"
        }
        return "none was given"
    }
}
