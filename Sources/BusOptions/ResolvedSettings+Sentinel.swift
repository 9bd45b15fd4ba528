public import BusConfig
public import BusCore

extension ResolvedSettings {
    /// `redis.sentinel_username` and the password of
    /// `redis.sentinel_password_file` or `redis.sentinel_password`: the
    /// sentinels' own credentials, for a `redis+sentinel://` URL only. The
    /// URL's `sentinel_password` and a setting together are an error.
    func applySentinelSettings(to redis: inout RedisConfiguration) throws(ConfigError) {
        let username = try string("redis.sentinel_username")
        let password = try secret("redis.sentinel_password")
        guard username != nil || password != nil else { return }
        guard var sentinel = redis.sentinel else {
            let key = username != nil ? "redis.sentinel_username" : password.map { _ in self.sentinelPasswordKey } ?? ""
            throw invalid(key, "redis.url is not a redis+sentinel:// URL: there are no sentinels to log in to")
        }
        if let username {
            if sentinel.username != nil {
                throw invalid("redis.sentinel_username", "redis.url carries sentinel_username too: give one")
            }
            sentinel.username = username
        }
        if let (value, source) = password {
            if sentinel.password != nil {
                throw ConfigError(
                    key: sentinelPasswordKey,
                    source: source,
                    reason: "redis.url carries sentinel_password too: give one"
                )
            }
            sentinel.password = value
        }
        if sentinel.username != nil && sentinel.password == nil {
            throw invalid(
                "redis.sentinel_username",
                "needs a sentinel password (redis.sentinel_password_file or SOCKETBUS_REDIS_SENTINEL_PASSWORD)"
            )
        }
        redis.sentinel = sentinel
    }

    /// Which of the two password settings is set (the file wins, as for redis.password).
    private var sentinelPasswordKey: String {
        self["redis.sentinel_password_file"] != nil ? "redis.sentinel_password_file" : "redis.sentinel_password"
    }
}
