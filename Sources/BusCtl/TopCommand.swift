import ArgumentParser
import BusConfig
import BusCore
import BusOptions
import Foundation
import StatusHTTP

/// `busctl top`: a live view of one busd (its rates, Redis, its node's
/// sockets) and of the cluster's nodes, or plain text blocks when standard
/// output is not a terminal.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of the local busd's rates, Redis, its sockets and the cluster's nodes.",
        discussion: """
            Rates are per second between two reads of busd's /metrics; the bars are the last 30 \
            reads. busd's address is found as by 'busctl status' (--http, SOCKETBUS_HTTP_LISTEN, \
            http.listen of the config file, 127.0.0.1:9477); Redis as by the other verbs. Keys: q \
            (or ^C) quits. When standard output is not a terminal, each refresh prints a block of \
            plain text (no sparklines, no escape codes) followed by an empty line.

            busd or Redis out of reach is shown in the view, which goes on refreshing.

            Exit status: 0 quit with q; with --count, that of the last read as 'busctl status' \
            gives it (0 ready, 3 not ready, 1 busd could not be reached); 130 on SIGINT, 143 on \
            SIGTERM, 129 on SIGHUP (the terminal restored first); 64 usage error.
            """
    )

    @Option(name: .long, help: "busd's status address, host:port.")
    var http: String?

    @Option(name: .long, help: "Time between refreshes (250ms, 1s, 2s, ...).")
    var interval: String = "1s"

    @Option(name: .long, help: "Stop after this many refreshes (default: until q, ^C or SIGTERM).")
    var count: Int?

    @Flag(name: .customLong("no-redis"), help: "Read busd only, not the registry in Redis.")
    var noRedis = false

    @OptionGroup var options: RedisOptions

    func validate() throws {
        if options.json {
            throw ValidationError("--json: busctl top prints a view, not JSON (see busctl status --json)")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        do {
            let wait = try DurationText.parse(interval)
            if wait < .milliseconds(100) { throw ValidationError("--interval must be at least 100ms") }
        } catch let error as DurationText.ParseError {
            throw ValidationError("--interval: \(error)")
        }
    }

    func run() throws {
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: try statusAddress())
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        let redis: RedisConfiguration?
        do {
            redis = noRedis ? nil : try options.settings().redisConfiguration()
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
        let wait = (try? DurationText.parse(interval)) ?? .seconds(1)
        let source = TopSource(address: address, redis: redis, keys: options.keys, timeout: .seconds(3))
        let loop = TopLoop(source: source, interval: wait, intervalText: interval, count: count)
        let status = TopTerminal.isInteractive ? loop.runInteractive() : loop.runPlain()
        if status != 0 { throw ExitCode(status) }
    }

    /// As `busctl status` finds it: the order busd reads its settings in.
    private func statusAddress() throws -> String {
        if let http { return http }
        let variables = ProcessInfo.processInfo.environment
        let layers = ResolvedSettings(
            flags: [:],
            environment: variables,
            file: try ConfigFile.named(byFlag: options.config, environment: variables)
        )
        let text = try layers.value("http.listen")
        if text == "off" { throw ValidationError("http.listen is off in busd's settings: no status to read") }
        return text
    }
}
