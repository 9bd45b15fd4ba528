public import Alerting
public import ArgumentParser
import BusConfig

/// The alerting flags of busd and `busctl alert-test` (docs/alerts.md).
/// They are one layer of the `alerts.*` settings (``flagValues``); the
/// settings themselves come from ``ResolvedSettings/alertSettings()``, so a
/// config file and the environment can set them too.
public struct AlertOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("alert-grace"), help: "How long Redis must stay unreachable before the first alert (default 10s).")
    var grace: String?

    @Option(name: .customLong("alert-repeat"), help: "How often the alert repeats while the outage lasts; 0 for never (default 1h).")
    var repeatInterval: String?

    @Option(name: .customLong("alert-role"), help: "Which busd sends: elected (default), always or never.")
    var role: String?

    @Option(name: .customLong("alert-senders"), help: "With --alert-role elected: how many nodes send (default 1).")
    var senders: String?

    @Option(name: .customLong("smtp-url"), help: "Mail server: smtp://host:port or smtps://host:port.")
    var smtpURL: String?

    @Option(name: .customLong("smtp-starttls"), help: "STARTTLS on smtp:// URLs: off, try (default) or require.")
    var smtpStartTLS: String?

    @Option(name: .customLong("smtp-user"), help: "SMTP AUTH user name.")
    var smtpUser: String?

    @Option(name: .customLong("smtp-password-file"), help: "File holding the SMTP password (else env SOCKETBUS_ALERTS_SMTP_PASSWORD).")
    var smtpPasswordFile: String?

    @Option(name: .customLong("smtp-from"), help: "Sender address, e.g. busd@example.com.")
    var smtpFrom: String?

    @Option(name: .customLong("smtp-to"), help: "Recipient address (repeatable, or comma-separated).")
    var smtpTo: [String] = []

    @Option(name: .customLong("smtp-ca-file"), help: "PEM file of the CA(s) to trust for the mail server.")
    var smtpCAFile: String?

    @Flag(name: .customLong("smtp-insecure"), help: "Do not verify the mail server's certificate.")
    var smtpInsecure = false

    @Option(name: .customLong("smtp-timeout"), help: "Time-out of one SMTP attempt (default 10s).")
    var smtpTimeout: String?

    @Option(name: .customLong("smtp-retries"), help: "SMTP retries after a failed attempt, 0-10 (default 2).")
    var smtpRetries: String?

    @Option(name: .customLong("webhook-url"), help: "URL the alert is POSTed to as JSON (repeatable).")
    var webhookURLs: [String] = []

    @Option(name: .customLong("webhook-token-file"), help: "File holding a bearer token (else env SOCKETBUS_ALERTS_WEBHOOK_TOKEN).")
    var webhookTokenFile: String?

    @Option(name: .customLong("webhook-timeout"), help: "Time-out of one webhook attempt (default 5s).")
    var webhookTimeout: String?

    @Option(name: .customLong("webhook-retries"), help: "Webhook retries after a failed attempt, 0-10 (default 2).")
    var webhookRetries: String?

    @Option(name: .customLong("webhook-ca-file"), help: "PEM file of the CA(s) to trust for https webhooks.")
    var webhookCAFile: String?

    @Flag(name: .customLong("webhook-insecure"), help: "Do not verify the webhooks' certificates.")
    var webhookInsecure = false

    /// The flags given, by setting key: the top layer of the settings.
    public var flagValues: [String: [String]] {
        var given: [String: [String]] = [:]
        let single: [(String, String?)] = [
            ("alerts.grace", grace), ("alerts.repeat", repeatInterval), ("alerts.role", role),
            ("alerts.senders", senders), ("alerts.smtp.url", smtpURL), ("alerts.smtp.starttls", smtpStartTLS),
            ("alerts.smtp.user", smtpUser), ("alerts.smtp.password_file", smtpPasswordFile),
            ("alerts.smtp.from", smtpFrom), ("alerts.smtp.ca_file", smtpCAFile),
            ("alerts.smtp.insecure", smtpInsecure ? "true" : nil), ("alerts.smtp.timeout", smtpTimeout),
            ("alerts.smtp.retries", smtpRetries), ("alerts.webhook.token_file", webhookTokenFile),
            ("alerts.webhook.timeout", webhookTimeout), ("alerts.webhook.retries", webhookRetries),
            ("alerts.webhook.ca_file", webhookCAFile), ("alerts.webhook.insecure", webhookInsecure ? "true" : nil),
        ]
        for case (let key, let value?) in single { given[key] = [value] }
        let recipients = smtpTo.flatMap { $0.split(separator: ",") }.map(String.init)
        if !recipients.isEmpty { given["alerts.smtp.to"] = recipients }
        if !webhookURLs.isEmpty { given["alerts.webhook.urls"] = webhookURLs }
        return given
    }

    /// The settings from these flags over the environment (no config
    /// file). Throws a `ValidationError` naming the setting: thrown from a
    /// command's `validate()` or `run()`, ArgumentParser prints it with the
    /// usage and exits with status 64.
    public func settings(environment: [String: String]) throws -> AlertSettings {
        do {
            return try ResolvedSettings(flags: flagValues, environment: environment, file: nil).alertSettings()
        } catch {
            throw ValidationError(error.description)
        }
    }
}
