/// Why Redis is out of reach for busd, which names the alert: an outage
/// waits for Redis to come back, but refused credentials and a full Redis
/// wait for an operator, and say so.
public enum OutageCause: String, Sendable, Equatable, CaseIterable {
    /// No answer: Redis down, the network cut, a time-out.
    case unreachable
    /// Redis refuses busd's password (rotated, or never set).
    case credentialsRefused
    /// Redis is at its maxmemory and refuses writes (`OOM` replies).
    case outOfMemory

    /// The alert name (`alertname` label), as in Prometheus/Alertmanager.
    public var alertname: String {
        switch self {
        case .unreachable: AlertEvent.redisUnreachable
        case .credentialsRefused: "RedisCredentialsRefused"
        case .outOfMemory: "RedisOutOfMemory"
        }
    }

    /// What is wrong, as the start of a sentence: "Redis unreachable".
    public var summary: String {
        switch self {
        case .unreachable: "Redis unreachable"
        case .credentialsRefused: "Redis refuses busd's credentials"
        case .outOfMemory: "Redis out of memory"
        }
    }

    /// What busd sees, after "busd on node X (host H) ...".
    func situation(redis: String) -> String {
        switch self {
        case .unreachable: "cannot reach Redis at \(redis)"
        case .credentialsRefused:
            "is refused by Redis at \(redis): its password (redis.password, redis.password_file or the URL's) is wrong or missing"
        case .outOfMemory: "gets out-of-memory errors from Redis at \(redis) (maxmemory reached): writes are refused"
        }
    }
}
