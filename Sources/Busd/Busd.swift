import ArgumentParser
import BusConfig
import BusCore
import BusOptions
import Foundation

/// The socketbus daemon: one next to each Socket.IO server process.
///
/// It joins the cluster (registry mirror, liveness, clean-up of dead nodes,
/// adapter subscriptions, emitter requests), serves its node on a Unix
/// socket (docs/local-protocol.md), and serves /healthz, /readyz and
/// /metrics on a loopback HTTP port. Settings come from flags, then the
/// environment, then the config file, then defaults (README, Configuration).
@main
struct Busd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busd",
        abstract: "socketbus daemon: the Socket.IO node's member of the Redis cluster.",
        discussion: """
            Every flag has a config-file key and an environment variable (README.md, Configuration): \
            flags win over SOCKETBUS_* variables, which win over the file given by --config or \
            SOCKETBUS_CONFIG. Secrets come from *_file settings or the environment only.
            """,
        version: BuildInfo.versionLine
    )

    @Option(name: .long, help: "YAML config file (env SOCKETBUS_CONFIG); see deploy/busd.yaml.")
    var config: String?

    @Flag(
        name: .customLong("check-config"),
        help: "Check the settings, print them with their sources, and exit (0 valid, 78 not)."
    )
    var checkConfig = false

    @Flag(
        name: .long,
        help: "With --check-config: print one JSON object {valid, file, errors: [{key, source, reason, message}], settings: [{key, value, source}]}."
    )
    var json = false

    @Flag(name: .customLong("settings-table"), help: .hidden)
    var settingsTable = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Redis URL: redis://[user@]host:port/db, rediss://... (TLS), redis://host1:port1,host2:port2 (cluster seeds), unix:///path?db=N or "
                + "redis[s]+sentinel://host[:port][,...]/<master>[/db] (redis.url)."
        )
    )
    var redis: String?

    @Option(name: .customLong("redis-password-file"), help: "File holding the Redis password (redis.password_file).")
    var redisPasswordFile: String?

    @Option(
        name: .customLong("redis-sentinel-username"),
        help: "The sentinels' own user, with a redis+sentinel:// URL (redis.sentinel_username)."
    )
    var redisSentinelUsername: String?

    @Option(
        name: .customLong("redis-sentinel-password-file"),
        help: "File holding the sentinels' password (redis.sentinel_password_file)."
    )
    var redisSentinelPasswordFile: String?

    @OptionGroup(title: "TLS to Redis (rediss:// URLs)") var redisTLS: RedisTLSOptions

    @Option(name: .customLong("node-id"), help: "This node's id (node.id; default <host>/<socket name>).")
    var nodeId: String?

    @Option(
        name: .customLong("namespace"),
        help: "A namespace the node serves, repeatable (node.namespaces; default /)."
    )
    var namespaces: [String] = []

    @Option(name: .customLong("adapter-key"), help: "The Socket.IO adapter's channel prefix (redis.adapter_key).")
    var adapterKey: String?

    @Option(name: .customLong("adapter"), help: "classic or sharded: the stock nodes' adapter (redis.adapter).")
    var adapter: String?

    @Option(
        name: .customLong("sharded-subscription-mode"),
        help: "static, dynamic or dynamic-private (redis.sharded_subscription_mode)."
    )
    var shardedSubscriptionMode: String?

    @Option(name: .long, help: "Prefix of socketbus's keys in Redis (redis.prefix).")
    var prefix: String?

    @Option(name: .customLong("liveness-ttl"), help: "How long a silent node counts as alive (registry.liveness_ttl).")
    var livenessTTL: String?

    @Option(name: .long, help: "The Unix socket the node's connector connects to (socket.path).")
    var socket: String?

    @Option(name: .customLong("socket-mode"), help: "File mode of the socket, octal (socket.mode).")
    var socketMode: String?

    @Option(
        name: .customLong("socket-max-connections"),
        help: "Connector connections served at once (socket.max_connections)."
    )
    var socketMaxConnections: String?

    @Option(
        name: .customLong("socket-handshake-timeout"),
        help: "How long a connection may take to send HELLO (socket.handshake_timeout)."
    )
    var socketHandshakeTimeout: String?

    @Option(
        name: .customLong("socket-queue-budget"),
        help: "MiB queued for the node over all connections (socket.queue_budget)."
    )
    var socketQueueBudget: String?

    @Option(
        name: .customLong("ack-policy"),
        help: "Which broadcasts get an ack id: all, requested or none (acks.policy)."
    )
    var ackPolicy: String?

    @Option(name: .customLong("ack-timeout"), help: "Longest wait for a client's ack (acks.timeout).")
    var ackTimeout: String?

    @Option(
        name: .customLong("node-answer-timeout"),
        help: "Longest wait for the node's answer to a cluster request (cluster.node_answer_timeout)."
    )
    var nodeAnswerTimeout: String?

    @Option(name: .customLong("confirmation-ttl"), help: "How long delivery records stay in Redis (acks.retention).")
    var confirmationTTL: String?

    @Option(name: .customLong("redis-timeout"), help: "Connect and command time-out for Redis (redis.timeout).")
    var redisTimeout: String?

    @Option(name: .customLong("redis-retry-initial"), help: "First reconnection delay (redis.retry_initial).")
    var redisRetryInitial: String?

    @Option(name: .customLong("redis-retry-max"), help: "Cap of the reconnection delay (redis.retry_max).")
    var redisRetryMax: String?

    @Option(
        name: .customLong("subscriber-backlog"),
        help: "Bytes of Redis messages read and not yet routed; more are dropped (redis.subscriber_backlog)."
    )
    var subscriberBacklog: String?

    @Option(name: .customLong("outbound-buffer"), help: "Commands kept for Redis while it is away (outbound.buffer).")
    var outboundBuffer: String?

    @Option(
        name: .customLong("outbound-overflow"),
        help: "When that buffer is full: drop-oldest or drop-newest (outbound.overflow)."
    )
    var outboundOverflow: String?

    @Option(
        name: .long,
        help: "host:port of /healthz, /readyz, /metrics, or off (http.listen; default 127.0.0.1:9477)."
    )
    var http: String?

    @Option(name: .customLong("drain-deadline"), help: "Longest graceful shutdown on SIGTERM/SIGINT (drain.deadline).")
    var drainDeadline: String?

    @OptionGroup(title: "Outage alerts (docs/alerts.md)") var alerts: AlertOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (log.level).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text or json: how log lines are written (log.format).")
    var logFormat: String?

    /// The flags given, by setting key: the top layer.
    var flagValues: [String: [String]] {
        var given = alerts.flagValues.merging(redisTLS.flagValues) { first, _ in first }
        let single: [(String, String?)] = [
            ("redis.url", redis), ("redis.password_file", redisPasswordFile), ("node.id", nodeId),
            ("redis.sentinel_username", redisSentinelUsername),
            ("redis.sentinel_password_file", redisSentinelPasswordFile),
            ("redis.adapter_key", adapterKey), ("redis.adapter", adapter),
            ("redis.sharded_subscription_mode", shardedSubscriptionMode), ("redis.prefix", prefix),
            ("registry.liveness_ttl", livenessTTL),
            ("socket.path", socket), ("socket.mode", socketMode), ("socket.max_connections", socketMaxConnections),
            ("socket.handshake_timeout", socketHandshakeTimeout), ("socket.queue_budget", socketQueueBudget),
            ("acks.policy", ackPolicy),
            ("acks.timeout", ackTimeout), ("acks.retention", confirmationTTL), ("redis.timeout", redisTimeout),
            ("cluster.node_answer_timeout", nodeAnswerTimeout),
            ("redis.retry_initial", redisRetryInitial), ("redis.retry_max", redisRetryMax),
            ("outbound.buffer", outboundBuffer), ("redis.subscriber_backlog", subscriberBacklog),
            ("outbound.overflow", outboundOverflow), ("http.listen", http),
            ("drain.deadline", drainDeadline), ("log.level", logLevel), ("log.format", logFormat),
        ]
        for case (let key, let value?) in single { given[key] = [value] }
        if !namespaces.isEmpty { given["node.namespaces"] = namespaces }
        return given
    }

    func validate() throws {
        if json && !checkConfig { throw ValidationError("--json goes with --check-config") }
    }

    func run() throws {
        if settingsTable {
            // The README's table is this output: one source for both.
            print(SettingsReport.markdownTable(), terminator: "")
            return
        }
        let environment = ProcessInfo.processInfo.environment
        // Before any thread starts (MallocTuning says why).
        let mallocTuning = checkConfig ? nil : MallocTuning.apply(environment: environment)
        let resolved: ResolvedSettings
        let settings: DaemonSettings
        switch Result(catching: { () throws(ConfigProblems) in try Self.loadSettings(flags: flagValues, config: config, environment: environment) }) {
        case .success(let loaded):
            (resolved, settings) = loaded
        case .failure(let problems):
            if checkConfig && json { print(SettingsReport.json(problems: problems)) }
            let lines = problems.errors.map { "busd: configuration error: \($0)\n" }.joined()
            FileHandle.standardError.write(Data(lines.utf8))
            throw ExitCode(78)  // EX_CONFIG: the systemd unit does not restart on it
        }
        if checkConfig {
            print(json ? SettingsReport.json(resolved, effective: settings) : SettingsReport.text(resolved, effective: settings))
            return
        }
        // SIGHUP reads the settings again, from the same flags, environment and file.
        let (flags, configPath) = (flagValues, self.config)
        let reload = { @Sendable () throws(ConfigProblems) -> (ResolvedSettings, DaemonSettings) in
            try Self.loadSettings(flags: flags, config: configPath, environment: ProcessInfo.processInfo.environment)
        }
        try Daemon(settings: settings, resolved: resolved, reload: reload, mallocTuning: mallocTuning ?? .untouched).run()
    }

    private static func loadSettings(
        flags: [String: [String]], config: String?, environment: [String: String]
    ) throws(ConfigProblems) -> (
        ResolvedSettings, DaemonSettings
    ) {
        let file: ConfigFile?
        do {
            file = try ConfigFile.named(byFlag: config, environment: environment, keepingProblems: true)
        } catch {
            throw ConfigProblems([error])
        }
        let resolved = ResolvedSettings(flags: flags, environment: environment, file: file)
        return (resolved, try DaemonSettings(resolved, hostName: ProcessInfo.processInfo.hostName))
    }
}
