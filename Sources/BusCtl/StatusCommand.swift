import ArgumentParser
import BusConfig
import Foundation
import StatusHTTP

/// `busctl status`: the local busd's readiness and figures, read from its
/// /readyz and /metrics endpoints.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the local busd's readiness and figures (from its /readyz and /metrics).",
        discussion: """
            The address is --http, else SOCKETBUS_HTTP_LISTEN, else http.listen of the config file \
            (--config or SOCKETBUS_CONFIG), else 127.0.0.1:9477: the order busd reads them in.

            --json: one object {address, reachable, ready, reasons, node {id, uid, version}, uptime_seconds, \
            redis {connected, reconnects, data_loss}, node_link {connections}, registry {sockets, rewrites}, \
            messages {received, delivered, malformed, dropped {<reason>: n}}, confirmations {delivered, timeout, \
            disconnected, pending}, outbound {buffered, limit, published, replayed}, alerts [{channel, result, count}]}; \
            a figure busd does not report is null. busd not reached: {address, reachable: false, ready: false, error}.

            Exit status: 0 ready, 3 not ready (the reasons are printed), 1 busd could not be reached.
            """
    )

    @Option(name: .long, help: "busd's status address, host:port.")
    var http: String?

    @Option(name: .long, help: "busd's YAML config file, to read http.listen from.")
    var config: String?

    @Flag(name: .long, help: "Print the raw Prometheus page instead of the summary.")
    var raw = false

    @Flag(name: .long, help: "Print the summary as one JSON object (fields in the help text).")
    var json = false

    func validate() throws {
        if raw && json { throw ValidationError("--raw and --json exclude each other") }
    }

    func run() throws {
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: try addressText())
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        } catch {
            throw ValidationError("--http: \(error)")
        }
        let ready: StatusClient.Response
        let metrics: StatusClient.Response
        do {
            ready = try StatusClient.get(address, path: "/readyz")
            metrics = try StatusClient.get(address, path: "/metrics")
        } catch {
            if json { print(StatusReport.unreachableJSON(address: "\(address)", error: "\(error)")) }
            printError("busctl status: \(error) (is busd running with http.listen \(address)?)")
            throw ExitCode(1)
        }
        if json {
            print(StatusReport.json(address: "\(address)", ready: ready, samples: PrometheusSample.parse(metrics.body)))
        } else if raw {
            print(metrics.body, terminator: "")
        } else {
            print(StatusReport.text(ready: ready, samples: PrometheusSample.parse(metrics.body)))
        }
        if ready.status != 200 { throw ExitCode(3) }
    }

    private func addressText() throws -> String {
        if let http { return http }
        let variables = ProcessInfo.processInfo.environment
        let layers = ResolvedSettings(
            flags: [:],
            environment: variables,
            file: try ConfigFile.named(byFlag: config, environment: variables)
        )
        let text = try layers.value("http.listen")
        if text == "off" { throw ValidationError("http.listen is off in busd's settings: no status to read") }
        return text
    }
}

/// The summary `busctl status` prints.
enum StatusReport {
    static func text(ready: StatusClient.Response, samples: [PrometheusSample]) -> String {
        func value(_ name: String, _ labels: [String: String] = [:]) -> String {
            guard
                let sample = samples.first(where: { sample in
                    sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
                })
            else { return "-" }
            return number(sample.value)
        }
        let info = samples.first { $0.name == "socketbus_info" }?.labels ?? [:]
        var uptime = "-"
        if let started = samples.first(where: { $0.name == "socketbus_start_time_seconds" })?.value, started.isFinite {
            uptime = number((Date().timeIntervalSince1970 - started).rounded(.down)) + "s"
        }
        let reasons = ready.body.split(separator: "\n").dropFirst().map { $0.hasPrefix("- ") ? $0.dropFirst(2) : $0 }
        let readyLine = ready.status == 200 ? "ready" : "NOT READY: " + reasons.joined(separator: "; ")
        var rows: [(String, String)] = [
            (
                "node",
                "\(info["node"] ?? "-")  uid \(info["uid"] ?? "-")  version \(info["version"] ?? "-")  up \(uptime)"
            ),
            ("state", readyLine),
            (
                "redis",
                "connected \(value("socketbus_redis_connected") == "1" ? "yes" : "no"), reconnects \(value("socketbus_redis_reconnects_total")), data loss \(value("socketbus_redis_data_loss_total"))"
            ),
            ("node link", "\(value("socketbus_local_connections")) connection(s)"),
            (
                "registry",
                "\(value("socketbus_registry_sockets")) socket(s), \(value("socketbus_registry_rewrites_total")) rewrite(s)"
            ),
            (
                "messages",
                "received \(value("socketbus_messages_received_total")), delivered \(value("socketbus_messages_delivered_total")), "
                    + "malformed \(value("socketbus_messages_malformed_total"))"
            ),
        ]
        let dropped = samples.filter { $0.name == "socketbus_messages_dropped_total" }
        rows.append(
            ("dropped", dropped.map { "\($0.labels["reason"] ?? "?") \(number($0.value))" }.joined(separator: ", "))
        )
        rows.append(
            (
                "confirmations",
                ["delivered", "timeout", "disconnected"].map {
                    "\($0) \(value("socketbus_confirmations_total", ["status": $0]))"
                }
                .joined(separator: ", ") + ", pending \(value("socketbus_acks_pending"))"
            )
        )
        rows.append(
            (
                "outbound",
                "buffered \(value("socketbus_outbound_buffered"))/\(value("socketbus_outbound_buffer_limit")), "
                    + "published \(value("socketbus_outbound_published_total")), replayed \(value("socketbus_outbound_replayed_total"))"
            )
        )
        let alerts = samples.filter { $0.name == "socketbus_alert_sends_total" && $0.value > 0 }
        rows.append(
            (
                "alerts",
                alerts.isEmpty
                    ? "none sent"
                    : alerts.map { "\($0.labels["channel"] ?? "?") \($0.labels["result"] ?? "?") \(number($0.value))" }
                        .joined(separator: ", ")
            )
        )
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 }.joined(
            separator: "\n"
        )
    }

    /// A sample's value as an operator reads it: whole numbers without a
    /// fraction. The page came over HTTP: NaN, infinities and values past
    /// Int64 are shown as they are, never converted (which would trap).
    static func number(_ value: Double) -> String {
        if abs(value) < 1e15, let whole = Int64(exactly: value) { return String(whole) }
        return abs(value) < 1e15 ? String(format: "%.1f", value) : "\(value)"
    }
}
