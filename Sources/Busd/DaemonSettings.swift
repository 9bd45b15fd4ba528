import Alerting
import BusConfig
import BusCore
import BusOptions
import Foundation
import Logging
import StatusHTTP

/// Everything busd runs with, typed and checked: built from the layered
/// settings, each problem a ``ConfigError`` naming its key.
struct DaemonSettings: Sendable {
    var member: ClusterMember.Configuration
    /// Where the Redis password came from, for the message when Redis refuses it.
    var redisPasswordOrigin: String
    var socketPath: String
    var socketMode: mode_t
    /// nil: the HTTP endpoints are off.
    var http: ListenAddress?
    /// The address was configured, not the default: failing to bind it is fatal.
    var httpConfigured: Bool
    var drainDeadline: Duration
    var logLevel: Logger.Level
    var alerts: AlertSettings

    init(_ settings: ResolvedSettings, hostName: String) throws(ConfigError) {
        let redis = try settings.redisConfiguration()
        redisPasswordOrigin = settings.redisPasswordOrigin
        socketPath = try settings.value("socket.path")
        guard !socketPath.isEmpty, socketPath.utf8.count < 108 else {
            throw settings.invalid("socket.path", "must be a path shorter than 108 bytes")
        }
        let nodeId = try settings.string("node.id") ?? NodeIdentity.defaultId(hostName: hostName, socketPath: socketPath)
        guard !nodeId.isEmpty, !nodeId.contains(where: { $0.isWhitespace || $0 == ":" }) else {
            throw settings.invalid("node.id", "'\(nodeId)' must be non-empty, without spaces or ':' (it is part of Redis keys)")
        }
        var member = ClusterMember.Configuration(redis: redis, nodeId: nodeId)
        member.host = hostName
        member.adapterKey = try settings.value("redis.adapter_key")
        member.registryKeys = RegistryKeys(prefix: try settings.value("redis.prefix"))
        let namespaces = settings.list("node.namespaces")
        if let bad = namespaces.first(where: { !$0.hasPrefix("/") }) {
            throw settings.invalid("node.namespaces", "'\(bad)' must start with '/'")
        }
        member.namespaces = namespaces.isEmpty ? ["/"] : namespaces
        member.livenessTTL = try settings.duration("registry.liveness_ttl", atLeast: .seconds(1))
        member.ackPolicy = try settings.choice("acks.policy", as: AckPolicy.self, among: ["all", "requested", "none"])
        member.ackTimeout = try settings.duration("acks.timeout", atLeast: .milliseconds(1))
        member.confirmationRetention = try settings.duration("acks.retention", atLeast: .seconds(1))
        let timeout = try settings.duration("redis.timeout", atLeast: .milliseconds(1))
        member.redisTimeout = timeout
        member.pingTimeout = timeout
        let initial = try settings.duration("redis.retry_initial", atLeast: .milliseconds(1))
        let maximum = try settings.duration("redis.retry_max", atLeast: .milliseconds(1))
        if maximum < initial { throw settings.invalid("redis.retry_max", "must not be below redis.retry_initial") }
        member.reconnectBackoff = RetryBackoff(initial: initial, maximum: maximum)
        member.outboundLimit = try settings.integer("outbound.buffer", in: 1...100_000_000)
        member.outboundOverflow = try settings.choice(
            "outbound.overflow", as: OutboundOverflowPolicy.self, among: ["drop-oldest", "drop-newest"])
        self.member = member

        let modeText = try settings.value("socket.mode")
        guard let mode = UInt32(modeText, radix: 8), mode <= 0o777 else {
            throw settings.invalid("socket.mode", "'\(modeText)' is not an octal file mode like 0660")
        }
        socketMode = mode_t(mode)
        http = try Self.httpAddress(settings)
        httpConfigured = settings.isSet("http.listen")
        drainDeadline = try settings.duration("drain.deadline", atLeast: .milliseconds(100))
        let level = try settings.value("log.level")
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw settings.invalid("log.level", "'\(level)' is not trace, debug, info, notice, warning, error or critical")
        }
        self.logLevel = logLevel
        alerts = try settings.alertSettings()
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
