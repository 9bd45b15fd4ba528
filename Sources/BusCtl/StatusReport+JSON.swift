import Foundation
import SocketIOCodec
import StatusHTTP

/// `busctl status --json`: the same figures as the text summary, as one JSON
/// object with fixed field names (docs in the command's help). A figure
/// busd's page lacks is null, never a made-up zero.
extension StatusReport {
    static func json(address: String, ready: StatusClient.Response, samples: [PrometheusSample]) -> String {
        func sample(_ name: String, _ labels: [String: String] = [:]) -> JSValue {
            let found = samples.first { sample in
                sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
            }
            return found.map { .number($0.value) } ?? .null
        }
        let info = samples.first { $0.name == "socketbus_info" }?.labels ?? [:]
        var uptime = JSValue.null
        if let started = samples.first(where: { $0.name == "socketbus_start_time_seconds" })?.value, started.isFinite {
            uptime = .number((Date().timeIntervalSince1970 - started).rounded(.down))
        }
        let reasons = ready.body.split(separator: "\n").dropFirst().map {
            JSValue.string(String($0.hasPrefix("- ") ? $0.dropFirst(2) : $0))
        }
        let connected: JSValue =
            samples.first { $0.name == "socketbus_redis_connected" }.map { .bool($0.value == 1) } ?? .null
        let dropped = samples.filter { $0.name == "socketbus_messages_dropped_total" }.map {
            ($0.labels["reason"] ?? "?", JSValue.number($0.value))
        }
        let alerts = samples.filter { $0.name == "socketbus_alert_sends_total" }.map {
            JSValue.object(
                JSObject([
                    ("channel", .string($0.labels["channel"] ?? "?")), ("result", .string($0.labels["result"] ?? "?")),
                    ("count", .number($0.value)),
                ])
            )
        }
        func object(_ pairs: [(String, JSValue)]) -> JSValue { .object(JSObject(pairs)) }
        let document = object([
            ("address", .string(address)),
            ("reachable", .bool(true)),
            ("ready", .bool(ready.status == 200)),
            ("reasons", .array(reasons)),
            (
                "node",
                object([
                    ("id", info["node"].map(JSValue.string) ?? .null),
                    ("uid", info["uid"].map(JSValue.string) ?? .null),
                    ("version", info["version"].map(JSValue.string) ?? .null),
                ])
            ),
            ("uptime_seconds", uptime),
            (
                "redis",
                object([
                    ("connected", connected), ("reconnects", sample("socketbus_redis_reconnects_total")),
                    ("data_loss", sample("socketbus_redis_data_loss_total")),
                ])
            ),
            ("node_link", object([("connections", sample("socketbus_local_connections"))])),
            (
                "registry",
                object([
                    ("sockets", sample("socketbus_registry_sockets")),
                    ("rewrites", sample("socketbus_registry_rewrites_total")),
                ])
            ),
            (
                "messages",
                object([
                    ("received", sample("socketbus_messages_received_total")),
                    ("delivered", sample("socketbus_messages_delivered_total")),
                    ("malformed", sample("socketbus_messages_malformed_total")),
                    ("dropped", .object(JSObject(dropped))),
                ])
            ),
            (
                "confirmations",
                object(
                    ["delivered", "timeout", "disconnected"].map {
                        ($0, sample("socketbus_confirmations_total", ["status": $0]))
                    }
                        + [("pending", sample("socketbus_acks_pending"))]
                )
            ),
            (
                "outbound",
                object([
                    ("buffered", sample("socketbus_outbound_buffered")),
                    ("limit", sample("socketbus_outbound_buffer_limit")),
                    ("published", sample("socketbus_outbound_published_total")),
                    ("replayed", sample("socketbus_outbound_replayed_total")),
                ])
            ),
            ("alerts", .array(alerts)),
        ])
        return JSONStringifier.string(document) ?? "{}"
    }

    /// What `--json` prints when busd cannot be reached (exit status 1).
    static func unreachableJSON(address: String, error: String) -> String {
        let document = JSObject([
            ("address", .string(address)), ("reachable", .bool(false)), ("ready", .bool(false)),
            ("error", .string(error)),
        ])
        return JSONStringifier.string(.object(document)) ?? "{}"
    }
}
