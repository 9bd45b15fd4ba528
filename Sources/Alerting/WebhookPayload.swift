import Durations
/// The JSON a webhook receives: Alertmanager's webhook format, version 4,
/// with one alert, so receivers written for Alertmanager (chat bridges,
/// incident tools) take it as it is. Documented in docs/alerts.md.
///
/// ```json
/// {"version":"4","groupKey":"{}:{alertname=\"RedisUnreachable\"}","truncatedAlerts":0,
///  "status":"firing","receiver":"socketbus","groupLabels":{"alertname":"RedisUnreachable"},
///  "commonLabels":{...},"commonAnnotations":{...},"externalURL":"",
///  "alerts":[{"status":"firing","labels":{...},"annotations":{...},
///             "startsAt":"2026-11-21T10:00:00.000Z","endsAt":"0001-01-01T00:00:00Z",
///             "generatorURL":"","fingerprint":"a1b2c3d4e5f60718"}]}
/// ```
public enum WebhookPayload {
    /// The receiver name Alertmanager would put there.
    public static let receiver = "socketbus"

    /// The payload for `event`, as compact UTF-8 JSON with a fixed key order.
    public static func json(for event: AlertEvent) -> String {
        value(for: event).text
    }

    static func value(for event: AlertEvent) -> JSONValue {
        let labels = sortedObject(event.labels)
        let annotations = sortedObject(self.annotations(for: event))
        let alert = JSONValue.object([
            ("status", .string(event.status)),
            ("labels", labels),
            ("annotations", annotations),
            ("startsAt", .string(AlertTimestamp.rfc3339(event.startsAt))),
            ("endsAt", .string(event.endsAt.map(AlertTimestamp.rfc3339) ?? AlertTimestamp.zero)),
            ("generatorURL", .string("")),
            ("fingerprint", .string(fingerprint(event.labels))),
        ])
        return .object([
            ("version", .string("4")),
            ("groupKey", .string("{}:{alertname=\"\(event.alertname)\"}")),
            ("truncatedAlerts", .integer(0)),
            ("status", .string(event.status)),
            ("receiver", .string(receiver)),
            ("groupLabels", .object([("alertname", .string(event.alertname))])),
            // One alert per payload: its labels and annotations are the common ones.
            ("commonLabels", labels),
            ("commonAnnotations", annotations),
            ("externalURL", .string("")),
            ("alerts", .array([alert])),
        ])
    }

    /// Annotations are strings in Alertmanager's format, numbers included.
    static func annotations(for event: AlertEvent) -> [String: String] {
        var annotations = [
            "summary": event.summary,
            "description": event.details,
            "duration": HumanDuration.format(event.duration),
            "duration_seconds": String(event.duration.components.seconds),
        ]
        if case .firing(let repeatNumber) = event.kind { annotations["repeat"] = String(repeatNumber) }
        return annotations
    }

    /// Prometheus' label-set fingerprint: FNV-1a 64 over the labels sorted
    /// by name, each name and value followed by a 0xFF byte; 16 hex digits.
    /// The same outage keeps it from firing to resolved, as in Alertmanager.
    public static func fingerprint(_ labels: [String: String]) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 1_099_511_628_211
        }
        for name in sortedNames(labels) {
            for byte in name.utf8 { add(byte) }
            add(0xFF)
            for byte in labels[name]!.utf8 { add(byte) }
            add(0xFF)
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static func sortedObject(_ pairs: [String: String]) -> JSONValue {
        .object(sortedNames(pairs).map { ($0, .string(pairs[$0]!)) })
    }

    /// Byte order, as Go sorts strings: the same on every platform.
    private static func sortedNames(_ pairs: [String: String]) -> [String] {
        pairs.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
