import Alerting
import ArgumentParser
import BusConfig
import BusOptions
import Foundation

/// `busctl alert-test`: one test alert through every channel the alerting
/// flags configure (the same flags busd takes), with each channel's outcome.
struct AlertTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert-test",
        abstract: "Send a test alert through every configured alert channel and report each result.",
        discussion: """
            Give the same alerting flags as busd (docs/alerts.md), or its config file. The test alert is a firing \
            RedisUnreachable alert with the label test="true"; emails say TEST in the subject.

            One line per channel: ok or FAILED, attempts, milliseconds, and the error. --json: one object \
            {channels: [{channel, target, ok, attempts, elapsed_ms, error}], ok, failed}, error null when it went out; \
            with no channel configured {channels: [], ok: 0, failed: 0, error}.

            Exit status: 0 every channel delivered, 2 at least one failed, 1 no channel configured.
            """
    )

    @OptionGroup var alerts: AlertOptions

    @Option(name: .long, help: "busd's YAML config file: test the alerts it configures (env SOCKETBUS_CONFIG).")
    var config: String?

    @Option(name: .long, help: "The node label of the test alert (default: this host's name).")
    var node: String?

    @Option(
        name: .customLong("redis-label"),
        help: "The redis label of the test alert (default: env SOCKETBUS_REDIS_URL); a password is removed."
    )
    var redisLabel: String?

    @Flag(name: .long, help: "Log every attempt to standard error.")
    var verbose = false

    @Flag(name: .long, help: "Print the outcome as one JSON object (fields in the help text).")
    var json = false

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: AlertSettings
        do {
            let file = try ConfigFile.named(byFlag: config, environment: environment)
            settings = try ResolvedSettings(flags: alerts.flagValues, environment: environment, file: file).alertSettings()
        } catch {
            throw ValidationError(error.description)
        }
        guard settings.hasChannels else {
            if json { print(AlertTestReport.json(results: [], error: "no alert channel configured")) }
            printError(
                "busctl alert-test: no alert channel configured: give --smtp-url (with --smtp-from and --smtp-to) and/or --webhook-url"
            )
            throw ExitCode(1)
        }
        let host = AlertDispatcher.localHostName
        let source = AlertSource(
            node: node ?? host,
            host: host,
            redis: redisLabel ?? environment["SOCKETBUS_REDIS_URL"] ?? "unknown"
        )
        let dispatcher = AlertDispatcher.forCommandLine(settings: settings, verbose: verbose)
        let results = dispatcher.sendAndWait(.test(source: source, at: Date()))
        dispatcher.stop(timeout: .seconds(1))

        let failed = results.filter { !$0.succeeded }.count
        if json {
            print(AlertTestReport.json(results: results, error: nil))
            if failed > 0 { throw ExitCode(2) }
            return
        }
        let nameWidth = results.map(\.channel.count).max() ?? 0
        let targetWidth = results.map(\.target.count).max() ?? 0
        for result in results {
            let outcome = result.succeeded ? "ok    " : "FAILED"
            let attempts = "\(result.attempts) attempt\(result.attempts == 1 ? "" : "s")"
            let ms = AlertTestReport.milliseconds(result.elapsed)
            var line =
                "\(outcome)  \(pad(result.channel, nameWidth))  \(pad(result.target, targetWidth))  \(pad(attempts, 10))  \(ms) ms"
            if let error = result.error { line += "  \(error)" }
            print(line)
        }
        print("\(results.count) channel(s): \(results.count - failed) ok, \(failed) failed")
        if failed > 0 { throw ExitCode(2) }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}
