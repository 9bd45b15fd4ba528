import ArgumentParser
import BusConfig
import BusCore
import BusOptions
import Foundation
import Hiredis

/// Options shared by the commands that talk to Redis. Redis is found as
/// busd finds it: each `redis.*` setting from its flag, else its
/// environment variable, else busd's config file (`--config` or
/// `SOCKETBUS_CONFIG`), else the default.
struct RedisOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "Redis URL: redis://[user@]host:port/db, rediss://... (TLS), redis://host1:port1,host2:port2 (cluster seeds), unix:///path?db=N or redis[s]+sentinel://host[:port][,...]/<master>[/db] (else SOCKETBUS_REDIS_URL, redis.url of the config file, redis://127.0.0.1:6379)."
    )
    var redis: String?

    @Option(
        name: .customLong("redis-password-file"),
        help:
            "A file holding the Redis password (else SOCKETBUS_REDIS_PASSWORD_FILE, SOCKETBUS_REDIS_PASSWORD, redis.password_file of the config file)."
    )
    var redisPasswordFile: String?

    @OptionGroup(title: "TLS to Redis (rediss:// URLs; else SOCKETBUS_REDIS_TLS_*, redis.tls_* of the config file)")
    var tls: RedisTLSOptions

    @Option(name: .long, help: "busd's YAML config file, for its redis.* settings (else SOCKETBUS_CONFIG).")
    var config: String?

    @Option(
        name: .long,
        help:
            "Prefix of the registry keys in Redis (else SOCKETBUS_REDIS_PREFIX, redis.prefix of the config file, socketbus)."
    )
    var prefix: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    /// The layered settings; a bad value is a usage error naming where it came from.
    func settings() throws -> ResolvedSettings {
        var flags = tls.flagValues
        if let redis { flags["redis.url"] = [redis] }
        if let redisPasswordFile { flags["redis.password_file"] = [redisPasswordFile] }
        if let prefix { flags["redis.prefix"] = [prefix] }
        let environment = ProcessInfo.processInfo.environment
        do {
            return ResolvedSettings(
                flags: flags,
                environment: environment,
                file: try ConfigFile.named(byFlag: config, environment: environment)
            )
        } catch {
            throw ValidationError(error.description)
        }
    }

    var keys: RegistryKeys {
        // connect() has read the same settings and reported any error first.
        RegistryKeys(prefix: (try? settings().value("redis.prefix")) ?? prefix ?? "socketbus")
    }

    func lookup() throws -> RegistryLookup {
        RegistryLookup(connection: try client(), keys: keys)
    }

    /// A new, logged-in connection to the first node that answers (a
    /// subscriber: on a cluster any node will do). Exits 1 when Redis
    /// cannot be reached, 4 when it refuses the credentials (see ``RedisFailure``).
    func connect() throws -> RedisConnection {
        try reach { configuration throws(RedisError) in try configuration.connectAnyNode(timeout: .seconds(3)) }
    }

    /// Commands to the deployment's Redis: one server or a cluster.
    func client() throws -> RedisClient {
        try reach { configuration throws(RedisError) in try RedisClient.connect(configuration, timeout: .seconds(3)) }
    }

    private func reach<T>(_ open: (RedisConfiguration) throws(RedisError) -> T) throws -> T {
        let settings = try settings()
        let configuration: RedisConfiguration
        do {
            configuration = try settings.redisConfiguration()
        } catch {
            throw ValidationError(error.description)
        }
        do {
            return try open(configuration)
        } catch  where error.code == .reply {
            throw RedisFailure.report("busctl", error, passwordOrigin: settings.redisPasswordOrigin)
        } catch {
            printError("busctl: cannot reach Redis at \(configuration): \(error)")
            throw ExitCode(1)
        }
    }

    /// What a command prints and exits with when Redis fails under it.
    func failure(_ command: String, _ error: any Error) -> ExitCode {
        RedisFailure.report("busctl \(command)", error, passwordOrigin: (try? settings().redisPasswordOrigin) ?? "")
    }
}

/// Redis failing under a command: an error reply is never an empty result.
enum RedisFailure {
    /// The exit status when Redis answered with an error (refused
    /// credentials, out of memory, read-only replica, ...).
    static let errorReplyStatus: Int32 = 4
    static let exitStatusHelp = "4 Redis answered with an error (credentials refused, out of memory, read-only, ...)"

    /// Prints what failed and returns the exit code: 4 for an error reply, 1 otherwise.
    static func report(_ who: String, _ error: any Error, passwordOrigin: String) -> ExitCode {
        guard let redisError = error as? RedisError, redisError.code == .reply else {
            printError("\(who): \(error)")
            return ExitCode(1)
        }
        if redisError.isAuthenticationFailure && redisError.context?.contains("at sentinel") == true {
            printError(
                "\(who): a sentinel refused the sentinels' credentials: \(redisError.description) "
                    + "(give them with SOCKETBUS_REDIS_SENTINEL_PASSWORD, redis.sentinel_password_file in --config or sentinel_password in the URL)"
            )
        } else if redisError.isAuthenticationFailure {
            let origin = passwordOrigin.isEmpty ? "" : "; password: \(passwordOrigin)"
            printError(
                "\(who): Redis refused the credentials: \(redisError.message) "
                    + "(give the password with SOCKETBUS_REDIS_PASSWORD, --redis-password-file or redis.password_file in --config\(origin))"
            )
        } else {
            printError("\(who): Redis answered with an error: \(redisError.description)")
        }
        return ExitCode(errorReplyStatus)
    }
}
