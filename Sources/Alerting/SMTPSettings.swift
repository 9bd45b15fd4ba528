import Durations
/// Email over SMTP: where to, as whom, and how securely.
public struct SMTPSettings: Sendable, Equatable {
    /// Whether a `smtp://` connection is upgraded with STARTTLS (`smtps://`
    /// is TLS from the first byte and ignores this).
    public enum StartTLS: String, Sendable, CaseIterable {
        /// Never upgrade: everything, AUTH included, goes in clear text.
        case off
        /// Upgrade when the server offers it; go on in clear text otherwise.
        case opportunistic = "try"
        /// Upgrade or give up.
        case required = "require"
    }

    /// `smtp://host[:port]` (port 25 by default) or `smtps://host[:port]`
    /// (implicit TLS, port 465 by default).
    public var url: String
    public var startTLS: StartTLS
    public var username: String?
    public var password: Secret?
    /// The envelope sender and `From:` address.
    public var from: String
    public var recipients: [String]
    /// PEM file of the CA(s) to trust instead of the system's.
    public var caFile: String?
    /// Accept any certificate and host name: for tests and self-signed servers only.
    public var insecure: Bool
    public var delivery: DeliveryPolicy

    public init(
        url: String,
        startTLS: StartTLS = .opportunistic,
        username: String? = nil,
        password: Secret? = nil,
        from: String,
        recipients: [String],
        caFile: String? = nil,
        insecure: Bool = false,
        delivery: DeliveryPolicy = DeliveryPolicy(timeout: .seconds(10), retries: 2)
    ) {
        self.url = url
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.from = from
        self.recipients = recipients
        self.caFile = caFile
        self.insecure = insecure
        self.delivery = delivery
    }

    /// True for `smtps://`: TLS from the first byte.
    public var implicitTLS: Bool { AlertURL(url)?.scheme == "smtps" }

    /// Throws the first problem found, naming the option to fix.
    public func validate() throws(AlertSettingsError) {
        _ = try SettingsCheck.url(url, option: "smtp-url", schemes: ["smtp", "smtps"])
        if from.isEmpty { throw .init("smtp-from", "is required with --smtp-url") }
        if !Self.isAddress(from) {
            throw .init("smtp-from", "must be an address like alerts@example.com (got '\(from)')")
        }
        if recipients.isEmpty { throw .init("smtp-to", "is required with --smtp-url") }
        for recipient in recipients where !Self.isAddress(recipient) {
            throw .init("smtp-to", "must be addresses like ops@example.com (got '\(recipient)')")
        }
        if username != nil && password == nil {
            throw .init("smtp-password-file", "(or SOCKETBUS_ALERTS_SMTP_PASSWORD) is required with --smtp-user")
        }
        if username == nil && password != nil { throw .init("smtp-user", "is required with --smtp-password-file") }
        try SettingsCheck.readableFile(caFile, option: "smtp-ca-file")
        try delivery.validate(prefix: "smtp")
    }

    /// A bare address, `local@domain`: no display name, nothing that would
    /// break an SMTP command or a header.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return !text.contains {
            $0.isWhitespace || $0.isNewline || "<>(),;:\"[]\\".contains($0) || $0.asciiValue.map { $0 < 0x20 } == true
        }
    }
}
