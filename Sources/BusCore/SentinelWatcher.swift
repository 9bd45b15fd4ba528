import Foundation
import Hiredis
import Logging
import NamedThreads
import Synchronization

/// Follows fail-overs as the sentinels announce them: subscribed to
/// `+switch-master` on one sentinel (the next one when it goes away), it
/// calls `onSwitch` when the master of its name moves, so busd reconnects at
/// once instead of waiting for a broken or demoted connection. On each
/// (re)connection to a sentinel it also asks where the master is: a switch
/// announced while it was not listening is not missed.
final class SentinelWatcher: @unchecked Sendable {
    // @unchecked: `lastMaster` belongs to the watcher's thread; the rest is behind `stopping`.
    struct Settings: Sendable {
        var timeout: Duration = .seconds(2)
        /// A silent sentinel is PINGed this often; no answer within `timeout` ends that link.
        var pingInterval: Duration = .seconds(1)
        var backoff = RetryBackoff()
    }

    let sentinel: RedisSentinel
    let settings: Settings
    private let logger: Logger
    /// On the watcher's thread, with the new master's address.
    private let onSwitch: @Sendable (RedisSentinel.Address) -> Void
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var lastMaster: RedisSentinel.Address?
    private let switches = Atomic<Int>(0)
    /// The watcher's sign of progress for the systemd watchdog.
    let heartbeat = Heartbeat(name: "busd-sentinel")

    init(
        sentinel: RedisSentinel,
        settings: Settings,
        logger: Logger,
        onSwitch: @escaping @Sendable (RedisSentinel.Address) -> Void
    ) {
        self.sentinel = sentinel
        self.settings = settings
        self.logger = logger
        self.onSwitch = onSwitch
    }

    /// Master switches seen (announced or found on reconnecting).
    var switchCount: Int { switches.load(ordering: .relaxed) }

    func start() {
        startThread(named: "busd-sentinel", heartbeat: heartbeat) { [self] in
            run()
            finished.signal()
        }
    }

    func stop(timeout: Duration = .seconds(3)) {
        stopping.store(true, ordering: .relaxed)
        _ = finished.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds)))
    }

    func run() {
        // A URL always names one sentinel at least; a hand-made value may not.
        guard !sentinel.sentinels.isEmpty else { return }
        var backoff = settings.backoff
        var index = 0
        var failures = 0
        while !stopping.load(ordering: .relaxed) {
            let address = sentinel.sentinels[index % sentinel.sentinels.count]
            index += 1
            // Connect, ask for the master, subscribe: three steps, each bounded by the time-out.
            heartbeat.beat(quietFor: settings.timeout * 3 + .seconds(1))
            do {
                let connection = try sentinel.connect(to: address, timeout: settings.timeout)
                defer { connection.close() }
                if let master = try sentinel.masterAddress(from: connection) { noteMaster(master, via: address) }
                _ = try connection.command(["SUBSCRIBE", "+switch-master"])
                backoff.reset()
                failures = 0
                logger.debug("watching sentinel for fail-overs", metadata: ["sentinel": "\(address)"])
                try listen(on: connection, address: address)
            } catch {
                // Once per run of failures: the other sentinels are tried in turn.
                logger.log(
                    level: failures == 0 ? .warning : .debug,
                    "sentinel watcher lost sentinel \(address): \(error); trying the next one"
                )
                failures += 1
                if failures % sentinel.sentinels.count == 0 { sleep(upTo: backoff.next()) }
            }
        }
    }

    private struct SilentSentinel: Error, CustomStringConvertible {
        var description: String { "no answer to PING" }
    }

    private func listen(on connection: RedisConnection, address: RedisSentinel.Address) throws {
        let clock = ContinuousClock()
        var lastTraffic = clock.now
        var pingSentAt: ContinuousClock.Instant?
        while !stopping.load(ordering: .relaxed) {
            // Every turn: the wait below wakes every 100 ms.
            heartbeat.beat()
            if try connection.waitReadable(timeout: .milliseconds(100)) {
                try connection.readAvailable()
                while let reply = try connection.bufferedReply() { handle(reply, via: address) }
                lastTraffic = clock.now
                pingSentAt = nil
                continue
            }
            if let sent = pingSentAt {
                if clock.now - sent > settings.timeout { throw SilentSentinel() }
            } else if clock.now - lastTraffic > settings.pingInterval {
                try connection.append(["PING"])
                try connection.flush()
                pingSentAt = clock.now
            }
        }
    }

    /// `message +switch-master "<name> <old-ip> <old-port> <new-ip> <new-port>"`.
    private func handle(_ reply: RedisReply, via address: RedisSentinel.Address) {
        guard case .array(let parts) = reply, parts.count == 3, parts[0].string == "message",
            parts[1].string == "+switch-master", let text = parts[2].string
        else { return }
        let fields = text.split(separator: " ")
        guard fields.count == 5, fields[0] == sentinel.masterName, let port = Int(fields[4]),
            (1...65535).contains(port)
        else { return }
        noteMaster(RedisSentinel.Address(host: String(fields[3]), port: port), via: address)
    }

    private func noteMaster(_ master: RedisSentinel.Address, via address: RedisSentinel.Address) {
        defer { lastMaster = master }
        guard let last = lastMaster, last != master else { return }
        switches.add(1, ordering: .relaxed)
        logger.notice(
            "sentinel fail-over: the master moved; reconnecting",
            metadata: [
                "master": "\(sentinel.masterName)", "from": "\(last)", "to": "\(master)", "sentinel": "\(address)",
            ]
        )
        onSwitch(master)
    }

    private func sleep(upTo delay: Duration) {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline && !stopping.load(ordering: .relaxed) {
            heartbeat.beat()
            Thread.sleep(forTimeInterval: min(0.05, (deadline - ContinuousClock.now).seconds))
        }
    }
}

/// Thrown inside a connection loop to drop a connection to a master the
/// sentinels replaced.
struct MasterSwitched: Error, CustomStringConvertible {
    var description: String { "the sentinels switched the master" }
}
