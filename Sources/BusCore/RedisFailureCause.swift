import Hiredis

/// Why busd lost Redis: not every failure is an outage to wait out.
/// Refused credentials and a full Redis need an operator, and are logged
/// and alerted as what they are.
public enum RedisFailureCause: Sendable, Equatable {
    case unreachable, credentialsRefused, outOfMemory, errorReply

    init(_ error: any Error) {
        guard let error = error as? RedisError else {
            self = .unreachable
            return
        }
        if error.isAuthenticationFailure {
            self = .credentialsRefused
        } else if error.isServerOutOfMemory {
            self = .outOfMemory
        } else {
            self = error.code == .reply ? .errorReply : .unreachable
        }
    }

    /// The mirror's log line.
    var logText: String {
        switch self {
        case .unreachable: "registry mirror lost Redis"
        case .credentialsRefused: "Redis refused busd's credentials (redis.password, redis.password_file or the URL's)"
        case .outOfMemory: "Redis is out of memory (maxmemory): registry writes and broadcasts are refused"
        case .errorReply: "Redis answered the registry mirror with an error"
        }
    }
}
