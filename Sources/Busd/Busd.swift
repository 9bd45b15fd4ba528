import ArgumentParser
import BusCore
import Dispatch
import Foundation
import Logging

/// The socketbus daemon: one next to each Socket.IO server process.
///
/// This build joins the cluster (registry mirror, liveness, clean-up of dead
/// nodes, adapter subscriptions, emitter requests). The local socket its node
/// connects to comes with the local protocol; until then the registry is
/// empty and node commands are logged.
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

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        if livenessTTL < 1 { throw ValidationError("--liveness-ttl must be at least 1 second") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
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

        let commandLogger = logger
        let member = ClusterMember(configuration: configuration, logger: logger) { command in
            commandLogger.debug("node command (no node connected yet): \(command)")
        }
        member.start()
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
                member.stop(leave: true)
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
