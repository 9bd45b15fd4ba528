import Alerting
import BusConfig
import BusCore
import BusOptions
import Foundation
import Hiredis
import Logging
import SocketIOCodec
import StatusHTTP

/// Everything busd runs with, typed and checked: built from the layered
/// settings, each problem a ``ConfigError`` naming its key.
struct DaemonSettings: Sendable {
    var member: ClusterMember.Configuration
    /// Where the Redis password came from, for the message when Redis refuses it.
    var redisPasswordOrigin: String
    var socketPath: String
    var socketMode: mode_t
    var socketMaxConnections: Int
    var socketHandshakeTimeout: Duration
    /// Bytes.
    var socketQueueBudget: Int
    /// nil: the HTTP endpoints are off.
    var http: ListenAddress?
    /// The address was configured, not the default: failing to bind it is fatal.
    var httpConfigured: Bool
    var drainDeadline: Duration
    var logLevel: Logger.Level
    var logFormat: LogLineFormat
    var alerts: AlertSettings

    /// Reads every setting; throws all the problems found, not just the first.
    init(_ settings: ResolvedSettings, hostName: String) throws(ConfigProblems) {
        var problems = ConfigCollector()
        for error in (settings.file?.problems ?? []) + settings.unknownEnvironmentErrors { problems.record(error) }
        let redis = problems.read { () throws(ConfigError) in try settings.redisConfiguration() }
        redisPasswordOrigin = settings.redisPasswordOrigin
        let path = problems.read { () throws(ConfigError) in try Self.socketPath(settings) } ?? ""
        socketPath = path
        let nodeId = problems.read { () throws(ConfigError) -> String in
            let nodeId = try settings.string("node.id") ?? NodeIdentity.defaultId(hostName: hostName, socketPath: path)
            guard !nodeId.isEmpty, !nodeId.contains(where: { $0.isWhitespace || $0 == ":" }) else {
                throw settings.invalid(
                    "node.id",
                    "'\(nodeId)' must be non-empty, without spaces or ':' (it is part of Redis keys)"
                )
            }
            return nodeId
        }
        var member = ClusterMember.Configuration(
            redis: redis ?? RedisConfiguration(endpoint: .tcp(host: "localhost", port: 6379)),
            nodeId: nodeId ?? ""
        )
        member.host = hostName
        problems.read { () throws(ConfigError) in
            member.adapterKey = try settings.value("redis.adapter_key")
            member.registryKeys = RegistryKeys(prefix: try settings.value("redis.prefix"))
        }
        let adapterName = problems.read { () throws(ConfigError) in
            try settings.choice("redis.adapter", as: AdapterFlavor.Name.self, among: AdapterFlavor.Name.allCases.map(\.rawValue))
        }
        let shardedMode = problems.read { () throws(ConfigError) in
            try settings.choice(
                "redis.sharded_subscription_mode",
                as: ShardedChannels.Mode.self,
                among: ShardedChannels.Mode.allCases.map(\.rawValue)
            )
        }
        if adapterName == .sharded, let shardedMode { member.adapterFlavor = .sharded(shardedMode) }
        let namespaces = settings.list("node.namespaces")
        if let bad = namespaces.first(where: { !$0.hasPrefix("/") }) {
            problems.record(settings.invalid("node.namespaces", "'\(bad)' must start with '/'"))
        }
        member.namespaces = namespaces.isEmpty ? ["/"] : namespaces
        problems.read { () throws(ConfigError) in
            member.livenessTTL = try settings.duration("registry.liveness_ttl", atLeast: .seconds(1))
        }
        problems.read { () throws(ConfigError) in
            member.ackPolicy = try settings.choice(
                "acks.policy",
                as: AckPolicy.self,
                among: ["all", "requested", "none"]
            )
        }
        problems.read { () throws(ConfigError) in
            member.ackTimeout = try settings.duration("acks.timeout", atLeast: .milliseconds(1))
        }
        problems.read { () throws(ConfigError) in
            member.nodeAnswerTimeout = try settings.duration("cluster.node_answer_timeout", atLeast: .milliseconds(1))
        }
        problems.read { () throws(ConfigError) in
            member.confirmationRetention = try settings.duration("acks.retention", atLeast: .seconds(1))
        }
        problems.read { () throws(ConfigError) in
            let timeout = try settings.duration("redis.timeout", atLeast: .milliseconds(1))
            member.redisTimeout = timeout
            member.pingTimeout = timeout
        }
        let initial = problems.read { () throws(ConfigError) in
            try settings.duration("redis.retry_initial", atLeast: .milliseconds(1))
        }
        let maximum = problems.read { () throws(ConfigError) in
            try settings.duration("redis.retry_max", atLeast: .milliseconds(1))
        }
        if let initial, let maximum {
            if maximum < initial {
                problems.record(settings.invalid("redis.retry_max", "must not be below redis.retry_initial"))
            } else {
                member.reconnectBackoff = RetryBackoff(initial: initial, maximum: maximum)
            }
        }
        problems.read { () throws(ConfigError) in
            member.outboundLimit = try settings.integer("outbound.buffer", in: 1...100_000_000)
        }
        problems.read { () throws(ConfigError) in
            member.outboundOverflow = try settings.choice(
                "outbound.overflow",
                as: OutboundOverflowPolicy.self,
                among: ["drop-oldest", "drop-newest"]
            )
        }
        problems.read { () throws(ConfigError) in
            member.subscriberBacklogBytes = try settings.integer("redis.subscriber_backlog", in: 65_536...(1 << 40))
        }
        self.member = member

        socketMode =
            problems.read { () throws(ConfigError) -> mode_t in
                let modeText = try settings.value("socket.mode")
                guard let mode = UInt32(modeText, radix: 8), mode <= 0o777 else {
                    throw settings.invalid("socket.mode", "'\(modeText)' is not an octal file mode like 0660")
                }
                return mode_t(mode)
            } ?? 0o660
        socketMaxConnections =
            problems.read { () throws(ConfigError) in try settings.integer("socket.max_connections", in: 1...1024) }
            ?? 8
        socketHandshakeTimeout =
            problems.read { () throws(ConfigError) -> Duration in
                let timeout = try settings.duration("socket.handshake_timeout", atLeast: .milliseconds(10))
                if timeout > .seconds(3600) { throw settings.invalid("socket.handshake_timeout", "must be at most 1h") }
                return timeout
            } ?? .seconds(5)
        // MiB; one largest frame (16 MiB and its prefix) must fit.
        socketQueueBudget =
            (problems.read { () throws(ConfigError) in try settings.integer("socket.queue_budget", in: 17...65536) }
                ?? 64) << 20
        http = problems.read { () throws(ConfigError) in try Self.httpAddress(settings) } ?? nil
        httpConfigured = settings.isSet("http.listen")
        drainDeadline =
            problems.read { () throws(ConfigError) in
                try settings.duration("drain.deadline", atLeast: .milliseconds(100))
            }
            ?? .seconds(10)
        logLevel =
            problems.read { () throws(ConfigError) -> Logger.Level in
                let level = try settings.value("log.level")
                guard let logLevel = Logger.Level(rawValue: level) else {
                    throw settings.invalid(
                        "log.level",
                        "'\(level)' is not trace, debug, info, notice, warning, error or critical"
                    )
                }
                return logLevel
            } ?? .info
        logFormat =
            problems.read { () throws(ConfigError) -> LogLineFormat in
                let format = try settings.value("log.format")
                guard let logFormat = LogLineFormat(rawValue: format) else {
                    throw settings.invalid("log.format", "'\(format)' is not text or json")
                }
                return logFormat
            } ?? .text
        alerts = problems.read { () throws(ConfigError) in try settings.alertSettings() } ?? AlertSettings()
        try problems.finish()
    }

    /// The socket's path; its directory must exist: busd does not create
    /// it (as root, with a mode nobody chose). The systemd unit's
    /// RuntimeDirectory= or the container's volume provides it.
    private static func socketPath(_ settings: ResolvedSettings) throws(ConfigError) -> String {
        let path = try settings.value("socket.path")
        guard !path.isEmpty, path.utf8.count < 108 else {
            throw settings.invalid("socket.path", "must be a path shorter than 108 bytes")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty,
            !(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue)
        {
            throw settings.invalid(
                "socket.path",
                "directory '\(directory)' does not exist; create it with the owner and mode the node needs "
                    + "(the systemd unit's RuntimeDirectory= does)"
            )
        }
        return path
    }

    private static func httpAddress(_ settings: ResolvedSettings) throws(ConfigError) -> ListenAddress? {
        let text = try settings.value("http.listen")
        guard text != "off" else { return nil }
        do {
            return try ListenAddress(parsing: text)
        } catch {
            throw settings.invalid("http.listen", error.description)
        }
    }
}
