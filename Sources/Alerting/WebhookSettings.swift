import Durations
/// A webhook: the alert POSTed as JSON (``WebhookPayload``) to one URL.
public struct WebhookSettings: Sendable, Equatable {
    /// `http://` or `https://`. Only its scheme, host and port are ever logged.
    public var url: String
    /// Sent as `Authorization: Bearer <token>` when set.
    public var bearerToken: Secret?
    /// PEM file of the CA(s) to trust instead of the system's.
    public var caFile: String?
    /// Accept any certificate and host name: for tests and self-signed servers only.
    public var insecure: Bool
    public var delivery: DeliveryPolicy

    public init(
        url: String,
        bearerToken: Secret? = nil,
        caFile: String? = nil,
        insecure: Bool = false,
        delivery: DeliveryPolicy = DeliveryPolicy(timeout: .seconds(5), retries: 2)
    ) {
        self.url = url
        self.bearerToken = bearerToken
        self.caFile = caFile
        self.insecure = insecure
        self.delivery = delivery
    }

    /// Throws the first problem found, naming the option to fix.
    public func validate() throws(AlertSettingsError) {
        _ = try SettingsCheck.url(url, option: "webhook-url", schemes: ["http", "https"])
        if let token = bearerToken?.value, token.isEmpty || token.contains(where: { $0.isNewline || $0.isWhitespace }) {
            throw .init("webhook-token-file", "(or SOCKETBUS_ALERTS_WEBHOOK_TOKEN) must be one word without spaces")
        }
        try SettingsCheck.readableFile(caFile, option: "webhook-ca-file")
        try delivery.validate(prefix: "webhook")
    }
}

extension WebhookSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Without the URL's path and query: some receivers (Slack's, for one)
    /// put their secret there.
    public var description: String {
        let url = AlertURL(url).map { "\($0.origin)/…" } ?? "<invalid URL>"
        return "WebhookSettings(url: \(url), bearerToken: \(bearerToken == nil ? "none" : "<redacted>"), "
            + "caFile: \(caFile ?? "none"), insecure: \(insecure), timeout: \(delivery.timeout), retries: \(delivery.retries))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}
