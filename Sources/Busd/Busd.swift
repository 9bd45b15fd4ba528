import Alerting
import ArgumentParser
import BusCore
import BusOptions
import Dispatch
import Foundation
import Logging
import Synchronization

/// The socketbus daemon: one next to each Socket.IO server process.
///
/// It joins the cluster (registry mirror, liveness, clean-up of dead nodes,
/// adapter subscriptions, emitter requests) and serves its node on a Unix
/// socket (docs/local-protocol.md). Broadcasts that want a delivery
/// confirmation (the ack policy) reach the node with an ack id spliced in;
/// the outcomes are published on `<prefix>:acks:<message id>`.
@main
struct Busd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busd",
        abstract: "socketbus daemon: the Socket.IO node's member of the Redis cluster.",
        version: "0.1.0"
    )

    @Option(name: .long, help: "Redis URL: redis://[user:password@]host:port/db or unix:///path?db=N (env SOCKETBUS_REDIS_URL).")
    var redis: String?

    @Option(name: .customLong("node-id"), help: "This node's id in the registry (default: <host>-<pid>).")
    var nodeId: String?

    @Option(name: .customLong("namespace"), help: "A namespace the node serves (repeatable; default /).")
    var namespaces: [String] = []

    @Option(name: .customLong("adapter-key"), help: "The Socket.IO adapter's channel prefix.")
    var adapterKey: String = "socket.io"

    @Option(name: .long, help: "Prefix of the registry keys in Redis.")
    var prefix: String = "socketbus"

    @Option(name: .customLong("liveness-ttl"), help: "Seconds before a silent node counts as gone.")
    var livenessTTL: Int = 15

    @Option(name: .long, help: "The Unix socket the node's connector connects to.")
    var socket: String = "/run/socketbus/busd.sock"

    @Option(name: .customLong("socket-mode"), help: "File mode of the socket, octal.")
    var socketMode: String = "0660"

    @Option(name: .customLong("ack-policy"), help: "Which broadcasts get an ack id: all, requested or none.")
    var ackPolicy: String = "requested"

    @Option(name: .customLong("ack-timeout"), help: "Longest wait for a client's ack (e.g. 30s); publishers may ask for less.")
    var ackTimeout: String = "30s"

    @Option(name: .customLong("confirmation-ttl"), help: "How long delivery records stay in Redis (e.g. 1h).")
    var confirmationTTL: String = "1h"

    @Option(name: .customLong("redis-timeout"), help: "Connect and command time-out for Redis; also how long an unanswered PING may wait.")
    var redisTimeout: String = "2s"

    @Option(name: .customLong("redis-retry-initial"), help: "First delay before reconnecting to Redis; it doubles per failed attempt.")
    var redisRetryInitial: String = "50ms"

    @Option(name: .customLong("redis-retry-max"), help: "Cap of the reconnection delay (each delay is drawn from its upper half: jitter).")
    var redisRetryMax: String = "500ms"

    @Option(name: .customLong("outbound-buffer"), help: "Commands for Redis (node broadcasts, delivery records) kept while Redis is away.")
    var outboundBuffer: Int = 100_000

    @Option(name: .customLong("outbound-overflow"), help: "When that buffer is full: drop-oldest or drop-newest.")
    var outboundOverflow: String = OutboundOverflowPolicy.dropOldest.rawValue

    @OptionGroup(title: "Outage alerts (docs/alerts.md)") var alerts: AlertOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        if livenessTTL < 1 { throw ValidationError("--liveness-ttl must be at least 1 second") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
        guard let mode = UInt32(socketMode, radix: 8), mode <= 0o777 else {
            throw ValidationError("--socket-mode '\(socketMode)' is not an octal file mode like 0660")
        }
        _ = mode
        if AckPolicy(rawValue: ackPolicy) == nil {
            throw ValidationError("--ack-policy: '\(ackPolicy)' is not all, requested or none")
        }
        if outboundBuffer < 1 { throw ValidationError("--outbound-buffer must be at least 1") }
        if OutboundOverflowPolicy(rawValue: outboundOverflow) == nil {
            throw ValidationError("--outbound-overflow: '\(outboundOverflow)' is not drop-oldest or drop-newest")
        }
        let durations = [
            ("--ack-timeout", ackTimeout), ("--confirmation-ttl", confirmationTTL), ("--redis-timeout", redisTimeout),
            ("--redis-retry-initial", redisRetryInitial), ("--redis-retry-max", redisRetryMax),
        ]
        for (flag, text) in durations {
            do {
                if try DurationText.parse(text) < .milliseconds(1) { throw ValidationError("\(flag) must be at least 1ms") }
            } catch let error as DurationText.ParseError {
                throw ValidationError("\(flag): \(error)")
            }
        }
        for namespace in namespaces where !namespace.hasPrefix("/") {
            throw ValidationError("--namespace '\(namespace)' must start with '/'")
        }
    }

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "busd")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        let url = redis ?? ProcessInfo.processInfo.environment["SOCKETBUS_REDIS_URL"] ?? "redis://127.0.0.1:6379"
        let redisConfiguration: RedisConfiguration
        do {
            redisConfiguration = try RedisConfiguration(url: url)
        } catch {
            throw ValidationError("--redis: \(error)")
        }
        let host = ProcessInfo.processInfo.hostName
        var configuration = ClusterMember.Configuration(
            redis: redisConfiguration,
            nodeId: nodeId ?? "\(host)-\(ProcessInfo.processInfo.processIdentifier)"
        )
        configuration.adapterKey = adapterKey
        configuration.registryKeys = RegistryKeys(prefix: prefix)
        configuration.namespaces = namespaces.isEmpty ? ["/"] : namespaces
        configuration.livenessTTL = .seconds(livenessTTL)
        configuration.host = host
        configuration.ackPolicy = AckPolicy(rawValue: ackPolicy) ?? .requested
        configuration.ackTimeout = (try? DurationText.parse(ackTimeout)) ?? .seconds(30)
        configuration.confirmationRetention = (try? DurationText.parse(confirmationTTL)) ?? .seconds(3600)
        let timeout = (try? DurationText.parse(redisTimeout)) ?? .seconds(2)
        configuration.redisTimeout = timeout
        configuration.pingTimeout = timeout
        configuration.reconnectBackoff = RetryBackoff(
            initial: (try? DurationText.parse(redisRetryInitial)) ?? .milliseconds(50),
            maximum: (try? DurationText.parse(redisRetryMax)) ?? .milliseconds(500)
        )
        configuration.outboundLimit = outboundBuffer
        configuration.outboundOverflow = OutboundOverflowPolicy(rawValue: outboundOverflow) ?? .dropOldest

        let alertSettings = try alerts.settings(environment: ProcessInfo.processInfo.environment)
        // The alerter asks the member who else is in the cluster; the member
        // tells the alerter when Redis comes and goes: one is made first.
        let members = Mutex<ClusterMember?>(nil)
        let alerter = OutageAlerter(
            settings: alertSettings,
            node: configuration.nodeId,
            redisDescription: "\(redisConfiguration)",
            knownNodes: { members.withLock { $0 }?.lastSeenLiveNodes ?? [] },
            logger: logger
        )
        // Redis is not there until both connections say so.
        alerter.reachabilityChanged(false)
        let relay = NodeCommandRelay()
        let member = ClusterMember(
            configuration: configuration,
            logger: logger,
            onAvailability: { alerter.reachabilityChanged($0) },
            onBatchEnd: { relay.flush() }
        ) { relay.forward($0) }
        members.withLock { $0 = member }
        let directory = (socket as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ValidationError("--socket: cannot create \(directory): \(error.localizedDescription)")
            }
        }
        var linkConfiguration = NodeLinkServer.Configuration(path: socket)
        linkConfiguration.mode = mode_t(UInt32(socketMode, radix: 8) ?? 0o660)
        let link = NodeLinkServer(configuration: linkConfiguration, member: member, logger: logger)
        relay.connect(to: link)
        member.start()
        do {
            try link.start()
        } catch {
            member.stop(leave: true)
            throw ValidationError("--socket: \(error)")
        }
        logger.info(
            "busd started",
            metadata: ["node": "\(configuration.nodeId)", "uid": "\(member.uid)", "redis": "\(redisConfiguration)"]
        )

        // SIGTERM/SIGINT: leave the cluster (remove this node's entries), then exit.
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler {
                logger.info("signal \(signalNumber): leaving the cluster")
                link.stop()
                member.stop(leave: true)
                alerter.stop(timeout: .seconds(2))
                Foundation.exit(0)
            }
            source.resume()
            signalSources.append(source)
        }
        dispatchMain()
    }
}

/// Kept alive for the life of the process.
nonisolated(unsafe) var signalSources: [any DispatchSourceSignal] = []
