import Curl
import Foundation

/// The alert POSTed as JSON (``WebhookPayload``); any 2xx answer is a
/// delivery, anything else a failure worth retrying.
public struct WebhookChannel: AlertChannel {
    public let settings: WebhookSettings
    public let name: String

    /// `index` numbers the webhooks in the order they were configured, from 1.
    public init(settings: WebhookSettings, index: Int) {
        self.settings = settings
        self.name = "webhook-\(index)"
    }

    public var delivery: DeliveryPolicy { settings.delivery }

    /// Scheme, host and port only: the path may be the secret (Slack-style URLs).
    public var target: String { AlertURL(settings.url)?.origin ?? "?" }

    public func deliver(_ event: AlertEvent) throws(ChannelError) {
        var headers = ["Content-Type: application/json", "User-Agent: socketbus-busd", "Expect:"]
        if let token = settings.bearerToken { headers.append("Authorization: Bearer \(token.value)") }
        let response: CurlResponse
        do {
            let curl = try CurlEasy()
            try curl.set(.url, settings.url)
            try curl.set(.protocols, "http,https")
            try curl.set(.followLocation, 0)
            try curl.set(.httpHeaders, headers)
            try TransferLimits.apply(
                delivery: settings.delivery,
                caFile: settings.caFile,
                insecure: settings.insecure,
                to: curl
            )
            try curl.setPostBody(Array(WebhookPayload.json(for: event).utf8))
            response = try curl.perform()
        } catch {
            throw .transfer(error.description)
        }
        guard (200..<300).contains(response.status) else {
            throw .status(response.status, body: Self.excerpt(response.body))
        }
    }

    /// The start of an error body, on one line: enough to see what the
    /// receiver said without filling the log with an HTML page.
    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let line = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }
        return String(line).trimmingCharacters(in: .whitespaces) + (body.count > 200 ? "…" : "")
    }
}
