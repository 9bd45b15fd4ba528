import Alerting
import BusConfig
import BusCore
import Hiredis
import Dispatch
import Foundation
import Logging
import StatusHTTP
import Synchronization

/// busd's parts wired together: the cluster member, the node's socket, the
/// outage alerter and the status endpoints; and the graceful drain that
/// ends them on SIGTERM or SIGINT.
final class Daemon: Sendable {
    let settings: DaemonSettings
    let logger: Logger
    let member: ClusterMember
    let link: NodeLinkServer
    let alerter: OutageAlerter
    let status: StatusServer?
    let systemd: SystemdLifecycle
    let logLevel: SharedLogLevel
    let reload: @Sendable () throws(ConfigProblems) -> (ResolvedSettings, DaemonSettings)
    /// The settings as read at start: what a reload compares with.
    let resolved: ResolvedSettings
    /// What busd set of glibc malloc at start (logged with "busd started").
    let mallocTuning: MallocTuning.Outcome
    /// Gives a drained backlog's freed pages back to the system.
    let mallocTrimmer: MallocTrimmer
    private let draining = Atomic<Bool>(false)

    init(
        settings: DaemonSettings,
        resolved: ResolvedSettings,
        reload: @escaping @Sendable () throws(ConfigProblems) -> (ResolvedSettings, DaemonSettings),
        mallocTuning: MallocTuning.Outcome
    ) {
        self.settings = settings
        self.mallocTuning = mallocTuning
        self.resolved = resolved
        self.reload = reload
        let logLevel = SharedLogLevel(settings.logLevel)
        self.logLevel = logLevel
        let format = settings.logFormat
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, sharedLevel: logLevel) }
        let logger = Logger(label: "busd")
        self.logger = logger
        // The alerter asks the member who else is in the cluster; the member
        // tells the alerter when Redis comes and goes: one is made first.
        let members = Mutex<ClusterMember?>(nil)
        let alerter = OutageAlerter(
            settings: settings.alerts,
            node: settings.member.nodeId,
            redisDescription: "\(settings.member.redis)",
            knownNodes: { members.withLock { $0 }?.lastSeenLiveNodes ?? [] },
            logger: logger
        )
        self.alerter = alerter
        // Commands for the node go through the relay: the member exists before the link.
        let relay = NodeCommandRelay()
        let member = ClusterMember(
            configuration: settings.member,
            logger: logger,
            onAvailability: { alerter.reachabilityChanged($0) },
            onDataLoss: { alerter.dataLost(cause: $0.cause.rawValue, why: "\($0)") },
            onFailure: { alerter.causeChanged(OutageCause($0)) },
            onBatchEnd: { relay.flush() }
        ) { relay.forward($0) }
        self.member = member
        members.withLock { $0 = member }
        systemd = SystemdLifecycle(
            notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment), member: member, logger: logger
        )
        var linkConfiguration = NodeLinkServer.Configuration(path: settings.socketPath)
        linkConfiguration.mode = settings.socketMode
        linkConfiguration.maximumConnections = settings.socketMaxConnections
        linkConfiguration.handshakeTimeout = settings.socketHandshakeTimeout
        linkConfiguration.queueBudget = settings.socketQueueBudget
        let link = NodeLinkServer(configuration: linkConfiguration, member: member, logger: logger)
        self.link = link
        relay.connect(to: link)
        let mallocTrimmer = MallocTrimmer(logger: logger) {
            // The two peaks need not have been at once: their sum is an upper bound.
            MallocTrimmer.Reading(
                waitingBytes: member.subscriberBacklogBytes + link.queuedBytes,
                peakBytes: member.takeSubscriberBacklogPeakBytes() + link.takeQueuedPeakBytes()
            )
        }
        self.mallocTrimmer = mallocTrimmer
        // The pages count the server's dropped connections: the server is made after its handler.
        let servers = Mutex<StatusServer?>(nil)
        status = settings.http.map { address in
            let handler = StatusPages.handler(member: member, link: link, alerter: alerter, trimmer: mallocTrimmer) {
                servers.withLock { $0 }?.droppedConnections ?? .init()
            }
            let server = StatusServer(address: address, handler: handler)
            servers.withLock { $0 = server }
            return server
        }
    }

    /// Starts everything, then serves until a signal drains and exits the process.
    ///
    /// Every check that can refuse the start (the socket taken, a configured
    /// HTTP address taken, Redis refusing the credentials) comes before the
    /// member starts: its first act is to rewrite this node's registry in
    /// Redis, which would wipe a live busd's entries under the same node id.
    func run() throws {
        // First, so that a SIGTERM at any moment from here on drains.
        installSignalHandlers()
        // Redis is not there until both connections say so.
        alerter.reachabilityChanged(false)
        do {
            try link.bind()
        } catch {
            FileHandle.standardError.write(Data("busd: socket.path: \(error)\n".utf8))
            Foundation.exit(1)
        }
        startStatusEndpoints()
        checkRedisCredentials()
        member.start()
        do {
            try link.start()
        } catch {
            member.stop(leave: true)
            FileHandle.standardError.write(Data("busd: socket.path: \(error)\n".utf8))
            Foundation.exit(1)
        }
        logger.info(
            "busd started",
            metadata: [
                "node": "\(settings.member.nodeId)", "uid": "\(member.uid)", "redis": "\(settings.member.redis)",
                "socket": "\(settings.socketPath)", "malloc": "\(mallocTuning)",
            ]
        )
        mallocTrimmer.start()
        systemd.start()
        dispatchMain()
    }

    /// Credentials Redis refuses at start are a configuration error (exit
    /// 78, which systemd does not restart on), not an outage to wait out.
    /// Redis being away is an outage: the member retries.
    private func checkRedisCredentials() {
        let redis = settings.member.redis
        do {
            try redis.connectAnyNode(timeout: settings.member.redisTimeout).close()
        } catch  where error.isAuthenticationFailure && error.context?.contains("at sentinel") == true {
            refuseToStart(
                "redis.sentinel_password: a sentinel of \(redis) refused the sentinels' credentials: \(error.message); "
                    + "set redis.sentinel_password_file, SOCKETBUS_REDIS_SENTINEL_PASSWORD or sentinel_password in redis.url"
            )
        } catch  where error.isAuthenticationFailure {
            refuseToStart(
                "redis.password: Redis at \(redis) refused the credentials (password: \(settings.redisPasswordOrigin)): "
                    + "\(error.message); set redis.password_file, SOCKETBUS_REDIS_PASSWORD or the password in redis.url"
            )
        } catch  where error.code == .reply && error.context?.hasPrefix("SELECT") == true {
            refuseToStart("redis.url: Redis at \(redis) refused the database: \(error.message)")
        } catch  where error.code == .tls {
            // A certificate that fails verification, one Redis wants and was
            // not given, an unreadable CA or key: retrying cannot mend them.
            refuseToStart("redis.tls_*: TLS to Redis at \(redis) failed: \(error.message)")
        } catch {
            logger.warning("Redis not reachable at start: \(error); retrying", metadata: ["redis": "\(redis)"])
        }
    }

    private func refuseToStart(_ message: String) -> Never {
        unlink(settings.socketPath)  // bound by us, not accepting yet
        FileHandle.standardError.write(Data("busd: \(message)\n".utf8))
        Foundation.exit(78)
    }

    /// A configured address that cannot be bound stops busd; the default one
    /// (several busd on a host, none configured) only costs the endpoints.
    /// Runs before the member starts, so there is nothing to stop then.
    private func startStatusEndpoints() {
        guard let status, let address = settings.http else { return }
        do {
            let port = try status.start()
            logger.info("status endpoints up", metadata: ["http": "\(ListenAddress(host: address.host, port: port))"])
            if !address.isLoopback {
                logger.warning("status endpoints listen beyond loopback", metadata: ["http": "\(address)"])
            }
        } catch {
            guard settings.httpConfigured else {
                logger.warning("status endpoints off: \(error); set http.listen (--http) to a free port")
                return
            }
            unlink(settings.socketPath)  // bound by us, not accepting yet
            FileHandle.standardError.write(Data("busd: http.listen: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }

    private func installSignalHandlers() {
        // A write to a Redis connection the server closed (CLIENT KILL, a
        // restart) must be an EPIPE the connection reports, not a SIGPIPE
        // that ends busd: hiredis writes with plain write(2).
        signal(SIGPIPE, SIG_IGN)
        // A parent may have blocked them (Foundation's Process does): a
        // blocked SIGTERM would never start the drain.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler { [self] in
                if draining.exchange(true, ordering: .relaxed) {
                    logger.warning("second signal during the drain: exiting now")
                    Foundation.exit(1)
                }
                // Off the main queue, so a second signal is still heard.
                Thread.detachNewThread { [self] in Foundation.exit(drain(signal: signalNumber)) }
            }
            source.resume()
            signalSources.append(source)
        }
        signal(SIGHUP, SIG_IGN)
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .main)
        hangUp.setEventHandler { [self] in reloadSettings() }
        hangUp.resume()
        signalSources.append(hangUp)
    }

    /// Stops new work, flushes what is in flight to the node and to Redis,
    /// leaves the cluster; returns the exit status: 0 when all of it was
    /// done within the deadline, 1 when the deadline cut it short.
    func drain(signal: Int32) -> Int32 {
        let started = ContinuousClock.now
        let deadline = started + settings.drainDeadline
        systemd.drainStarted()
        logger.notice(
            "signal \(signal): draining",
            metadata: ["deadline": "\(DurationText.format(settings.drainDeadline))"]
        )
        link.stopAccepting()
        member.stopTakingMessages()
        let flushedToNode = link.waitUntilWritten(timeout: max(.zero, deadline - .now))
        if !flushedToNode { logger.error("drain: frames for the node were not all written before the deadline") }
        let left = member.drainToRedis(timeout: max(.milliseconds(1), deadline - .now))
        link.stop()
        mallocTrimmer.stop()
        status?.stop()
        alerter.stop(timeout: min(.seconds(1), max(.milliseconds(1), deadline - .now)))
        let took = (ContinuousClock.now - started).milliseconds
        if flushedToNode && left {
            logger.notice("drained: left the cluster", metadata: ["took_ms": "\(took)"])
            return 0
        }
        logger.error("drain cut short by the deadline", metadata: ["took_ms": "\(took)"])
        return 1
    }
}

extension OutageCause {
    init(_ cause: RedisFailureCause) {
        switch cause {
        case .credentialsRefused: self = .credentialsRefused
        case .outOfMemory: self = .outOfMemory
        case .unreachable, .errorReply: self = .unreachable
        }
    }
}

/// Kept alive for the life of the process (written on the main thread only).
nonisolated(unsafe) var signalSources: [any DispatchSourceSignal] = []
