import Alerting
import Foundation
import Testing
import TestSupport

/// Webhooks through libcurl to a real HTTP listener (Tests/Sinks/http_sink.py).
@Suite("Webhook channel against a real HTTP listener")
struct WebhookChannelTests {
    static func channel(
        _ url: String,
        token: String? = nil,
        timeout: Duration = .seconds(5),
        caFile: String? = nil,
        insecure: Bool = false
    ) throws -> WebhookChannel {
        let settings = WebhookSettings(
            url: url,
            bearerToken: token.map(Secret.init),
            caFile: caFile,
            insecure: insecure,
            delivery: DeliveryPolicy(timeout: timeout, retries: 0)
        )
        try settings.validate()
        return WebhookChannel(settings: settings, index: 1)
    }

    @Test func jsonArrivesWithTheBearerToken() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        try Self.channel("http://127.0.0.1:\(sink.port)/hooks/alert?team=ops", token: "tok-abc").deliver(
            Fixtures.firing
        )
        let record = try #require(sink.records().first)
        #expect(record["method"] as? String == "POST")
        #expect(record["path"] as? String == "/hooks/alert?team=ops")
        let headers = try #require(record["headers"] as? [String: String])
        #expect(headers["content-type"] == "application/json")
        #expect(headers["authorization"] == "Bearer tok-abc")
        let body = try #require(record["body"] as? String)
        #expect(body == WebhookPayload.json(for: Fixtures.firing))
        let json = try Fixtures.json(body)
        #expect(json["version"] as? String == "4")
        #expect(json["status"] as? String == "firing")
        let alert = try #require((json["alerts"] as? [[String: Any]])?.first)
        #expect((alert["labels"] as? [String: String])?["node"] == "web-1")
        #expect(alert["endsAt"] as? String == "0001-01-01T00:00:00Z")
    }

    @Test func noTokenNoAuthorizationHeader() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: [])
        try Self.channel("http://127.0.0.1:\(sink.port)/").deliver(Fixtures.resolved)
        let headers = try #require(sink.records().first?["headers"] as? [String: String])
        #expect(headers["authorization"] == nil)
        #expect(sink.records().first?["body"] as? String == WebhookPayload.json(for: Fixtures.resolved))
    }

    @Test func a500IsAFailureWithTheReceiversWords() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: ["--statuses", "500"])
        let error = #expect(throws: ChannelError.self) {
            try Self.channel("http://127.0.0.1:\(sink.port)/").deliver(Fixtures.firing)
        }
        #expect(error?.status == 500)
        #expect(error?.description == "HTTP 500: sink says no second line")
        // 3xx is not success either: redirects are not followed.
        let redirect = try PythonSink(script: "http_sink.py", arguments: ["--statuses", "301"])
        #expect(throws: ChannelError.self) {
            try Self.channel("http://127.0.0.1:\(redirect.port)/").deliver(Fixtures.firing)
        }
    }

    @Test func httpsWithTheTestCAOrInsecure() throws {
        let certificate = try SelfSignedCertificate()
        let sink = try PythonSink(
            script: "http_sink.py",
            arguments: ["--cert", certificate.certificatePath, "--key", certificate.keyPath]
        )
        let url = "https://127.0.0.1:\(sink.port)/tls"
        try Self.channel(url, caFile: certificate.certificatePath).deliver(Fixtures.firing)
        try Self.channel(url, insecure: true).deliver(Fixtures.firing)
        let error = #expect(throws: ChannelError.self) { try Self.channel(url).deliver(Fixtures.firing) }
        #expect(error?.description.lowercased().contains("certificate") == true)
        #expect(sink.records().count == 2)
    }

    @Test func aSlowReceiverTimesOut() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: ["--delay", "5"])
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: ChannelError.self) {
            try Self.channel("http://127.0.0.1:\(sink.port)/", timeout: .milliseconds(400)).deliver(Fixtures.firing)
        }
        #expect(clock.now - start < .seconds(2))
        #expect(error?.description.contains("timed out") == true, "\(error.map(String.init(describing:)) ?? "")")
    }
}
