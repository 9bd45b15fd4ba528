@testable import Alerting
import Foundation
import Testing

/// The webhook JSON: Alertmanager's v4 shape, fixed key order, escaping,
/// fingerprints and timestamps.
@Suite("Webhook payload (Alertmanager webhook v4)")
struct WebhookPayloadTests {
    @Test func firingHasTheDocumentedFields() throws {
        let event = Fixtures.firing
        let json = try Fixtures.json(WebhookPayload.json(for: event))
        #expect(json["version"] as? String == "4")
        #expect(json["status"] as? String == "firing")
        #expect(json["receiver"] as? String == "socketbus")
        #expect(json["groupKey"] as? String == #"{}:{alertname="RedisUnreachable"}"#)
        #expect(json["truncatedAlerts"] as? Int == 0)
        #expect(json["externalURL"] as? String == "")
        #expect(json["groupLabels"] as? [String: String] == ["alertname": "RedisUnreachable"])
        let labels: [String: String] = [
            "alertname": "RedisUnreachable", "node": "web-1", "host": "host-a", "redis": "redis://10.0.0.5:6379/0",
            "severity": "critical",
        ]
        #expect(json["commonLabels"] as? [String: String] == labels)
        let alerts = try #require(json["alerts"] as? [[String: Any]])
        #expect(alerts.count == 1)
        let alert = alerts[0]
        #expect(alert["status"] as? String == "firing")
        #expect(alert["labels"] as? [String: String] == labels)
        #expect(alert["startsAt"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(alert["endsAt"] as? String == "0001-01-01T00:00:00Z")
        #expect(alert["generatorURL"] as? String == "")
        #expect(alert["fingerprint"] as? String == "58bafc4f79a9794b")
        let annotations = try #require(alert["annotations"] as? [String: String])
        #expect(annotations["summary"] == "Redis unreachable from node web-1 for 12s")
        #expect(annotations["description"]?.contains("since 2023-11-14T22:13:20.123Z (12s)") == true)
        #expect(annotations["duration"] == "12s")
        #expect(annotations["duration_seconds"] == "12")
        #expect(annotations["repeat"] == "1")
        #expect(json["commonAnnotations"] as? [String: String] == annotations)
    }

    @Test func resolvedKeepsTheFingerprintAndHasEndsAt() throws {
        let json = try Fixtures.json(WebhookPayload.json(for: Fixtures.resolved))
        #expect(json["status"] as? String == "resolved")
        let alert = try #require((json["alerts"] as? [[String: Any]])?.first)
        #expect(alert["status"] as? String == "resolved")
        #expect(alert["startsAt"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(alert["endsAt"] as? String == "2023-11-14T22:15:25.123Z")
        #expect(alert["fingerprint"] as? String == "58bafc4f79a9794b")
        let annotations = try #require(alert["annotations"] as? [String: String])
        #expect(annotations["summary"] == "Redis reachable again from node web-1 after 2m 5s")
        #expect(annotations["duration_seconds"] == "125")
        #expect(annotations["repeat"] == nil)
    }

    @Test func testAlertIsFiringWithTheTestLabel() throws {
        let json = try Fixtures.json(WebhookPayload.json(for: Fixtures.test))
        #expect(json["status"] as? String == "firing")
        let alert = try #require((json["alerts"] as? [[String: Any]])?.first)
        let labels = try #require(alert["labels"] as? [String: String])
        #expect(labels["test"] == "true")
        #expect(labels["alertname"] == "RedisUnreachable")
        #expect(alert["fingerprint"] as? String == "29330c55634dfdc5")
        #expect((alert["annotations"] as? [String: String])?["summary"] == "Test alert from node web-1")
    }

    /// Byte-for-byte: keys in the documented order, labels sorted, compact.
    @Test func outputIsDeterministic() {
        let text = WebhookPayload.json(for: Fixtures.firing)
        #expect(text == WebhookPayload.json(for: Fixtures.firing))
        #expect(
            text.hasPrefix(
                #"{"version":"4","groupKey":"{}:{alertname=\"RedisUnreachable\"}","truncatedAlerts":0,"status":"firing","receiver":"socketbus","groupLabels":{"alertname":"RedisUnreachable"},"commonLabels":{"alertname":"RedisUnreachable","host":"host-a","node":"web-1","redis":"redis://10.0.0.5:6379/0","severity":"critical"},"commonAnnotations":{"description":"#
            )
        )
        #expect(
            text.hasSuffix(
                #""startsAt":"2023-11-14T22:13:20.123Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"58bafc4f79a9794b"}]}"#
            )
        )
        let keys = [
            "\"version\"", "\"groupKey\"", "\"truncatedAlerts\"", "\"status\"", "\"receiver\"", "\"groupLabels\"",
            "\"commonLabels\"", "\"commonAnnotations\"", "\"externalURL\"", "\"alerts\"",
        ]
        let positions = keys.map { text.range(of: $0)!.lowerBound }
        #expect(positions == positions.sorted())
    }

    static let escapes: [(String, String)] = [
        ("plain", #""plain""#),
        ("quote \" here", #""quote \" here""#),
        ("back\\slash", #""back\\slash""#),
        ("line\nbreak\r\ttab", #""line\nbreak\r\ttab""#),
        ("\u{00}\u{01}\u{1F}\u{7F}", #""\u0000\u0001\u001f\u007f""#),
        ("\u{08}\u{0C}", #""\b\f""#),
        ("\u{2028}\u{2029}", #""\u2028\u2029""#),
        ("é ✓ 😀 /", "\"é ✓ 😀 /\""),
    ]

    @Test(arguments: escapes)
    func stringEscaping(_ input: String, _ expected: String) throws {
        var out = ""
        JSONValue.quote(input, into: &out)
        #expect(out == expected)
        // And a JSON parser reads back the original.
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(out)]".utf8)) as? [String]
        #expect(parsed == [input])
    }

    @Test func hostileLabelValuesRoundTrip() throws {
        let node = "we\"b\\1\n</script>\u{0}\u{2028}ünï"
        let event = AlertEvent.outageFiring(
            source: AlertSource(node: node, host: "h", redis: "unix:///run/redis.sock"),
            startedAt: Fixtures.start,
            duration: .seconds(30),
            repeatNumber: 1
        )
        let json = try Fixtures.json(WebhookPayload.json(for: event))
        #expect((json["commonLabels"] as? [String: String])?["node"] == node)
        #expect((json["commonLabels"] as? [String: String])?["redis"] == "unix:///run/redis.sock")
    }

    @Test func fingerprintIsPrometheusLabelSetFingerprint() {
        // Values computed independently (Python FNV-1a 64, 0xFF separators).
        #expect(WebhookPayload.fingerprint([:]) == "cbf29ce484222325")
        #expect(WebhookPayload.fingerprint(Fixtures.firing.labels) == "58bafc4f79a9794b")
        #expect(
            WebhookPayload.fingerprint(Fixtures.firing.labels) == WebhookPayload.fingerprint(Fixtures.resolved.labels)
        )
    }
}

@Suite("Timestamps and durations in alerts")
struct AlertTextFormatTests {
    static let dates: [(Double, String, String)] = [
        (0, "1970-01-01T00:00:00.000Z", "Thu, 01 Jan 1970 00:00:00 +0000"),
        (1_700_000_000.123, "2023-11-14T22:13:20.123Z", "Tue, 14 Nov 2023 22:13:20 +0000"),
        (951_782_400, "2000-02-29T00:00:00.000Z", "Tue, 29 Feb 2000 00:00:00 +0000"),
        (1_709_208_000.5, "2024-02-29T12:00:00.500Z", "Thu, 29 Feb 2024 12:00:00 +0000"),
        (4_102_444_799.999, "2099-12-31T23:59:59.999Z", "Thu, 31 Dec 2099 23:59:59 +0000"),
    ]

    @Test(arguments: dates)
    func timestamps(_ seconds: Double, _ rfc3339: String, _ rfc5322: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(AlertTimestamp.rfc3339(date) == rfc3339)
        #expect(AlertTimestamp.rfc5322(date) == rfc5322)
    }

    static let durations: [(Duration, String)] = [
        (.zero, "0s"), (.milliseconds(450), "450ms"), (.milliseconds(12_700), "12.7s"),
        (.milliseconds(2_760), "2.8s"), (.milliseconds(9_990), "10s"), (.milliseconds(59_970), "1m"), (.seconds(60), "1m"),
        (.seconds(125), "2m 5s"), (.seconds(3600), "1h"), (.seconds(3723), "1h 2m"),
        (.seconds(2 * 86_400 + 4 * 3600 + 59), "2d 4h"),
        (.seconds(-3), "0s"),
    ]

    @Test(arguments: durations)
    func humanDurations(_ duration: Duration, _ text: String) {
        #expect(HumanDuration.format(duration) == text)
    }

    static let redactions: [(String, String)] = [
        ("redis://:secret@10.0.0.5:6379/0", "redis://10.0.0.5:6379/0"),
        ("redis://user:secret@host:6379", "redis://user@host:6379"),
        ("redis://user@host", "redis://user@host"),
        ("redis://host:6379/0?x=a@b", "redis://host:6379/0?x=a@b"),
        ("unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=2"),
        ("not a url", "not a url"),
    ]

    @Test(arguments: redactions)
    func redisLabelNeverCarriesThePassword(_ url: String, _ label: String) {
        #expect(AlertSource(node: "n", host: "h", redis: url).redis == label)
    }
}
