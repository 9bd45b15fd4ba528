public import Alerting
public import ArgumentParser

/// The alerting flags of busd and `busctl alert-test` (docs/alerts.md).
/// ``settings(environment:)`` turns them into ``AlertSettings``, with an
/// error naming the flag for anything that cannot work.
public struct AlertOptions: ParsableArguments {
    public init() {}

    @Option(
        name: .customLong("alert-grace"),
        help: "How long Redis must stay unreachable before the first alert (e.g. 10s)."
    )
    var grace = "10s"

    @Option(name: .customLong("alert-repeat"), help: "How often the alert repeats while the outage lasts; 0 for never.")
    var repeatInterval = "1h"

    @Option(
        name: .customLong("alert-role"),
        help: "Which busd sends: elected (the first --alert-senders node ids), always or never."
    )
    var role = "elected"

    @Option(
        name: .customLong("alert-senders"),
        help: "With --alert-role elected: how many nodes of the cluster send alerts."
    )
    var senders = 1

    @Option(
        name: .customLong("smtp-url"),
        help: "Mail server: smtp://host:port (STARTTLS per --smtp-starttls) or smtps://host:port (TLS)."
    )
    var smtpURL: String?

    @Option(name: .customLong("smtp-starttls"), help: "STARTTLS on smtp:// URLs: off, try or require.")
    var smtpStartTLS = "try"

    @Option(name: .customLong("smtp-user"), help: "SMTP AUTH user name.")
    var smtpUser: String?

    @Option(
        name: .customLong("smtp-password-file"),
        help: "File holding the SMTP password (else env SOCKETBUS_SMTP_PASSWORD)."
    )
    var smtpPasswordFile: String?

    @Option(name: .customLong("smtp-from"), help: "Sender address, e.g. busd@example.com.")
    var smtpFrom: String?

    @Option(name: .customLong("smtp-to"), help: "Recipient address (repeatable, or comma-separated).")
    var smtpTo: [String] = []

    @Option(name: .customLong("smtp-ca-file"), help: "PEM file of the CA(s) to trust for the mail server.")
    var smtpCAFile: String?

    @Flag(
        name: .customLong("smtp-insecure"),
        help: "Do not verify the mail server's certificate (tests, self-signed servers)."
    )
    var smtpInsecure = false

    @Option(name: .customLong("smtp-timeout"), help: "Time-out of one SMTP attempt (e.g. 10s).")
    var smtpTimeout = "10s"

    @Option(name: .customLong("smtp-retries"), help: "SMTP retries after a failed attempt (0-10).")
    var smtpRetries = 2

    @Option(name: .customLong("webhook-url"), help: "URL the alert is POSTed to as JSON (repeatable).")
    var webhookURLs: [String] = []

    @Option(
        name: .customLong("webhook-token-file"),
        help: "File holding a bearer token for the webhooks (else env SOCKETBUS_WEBHOOK_TOKEN)."
    )
    var webhookTokenFile: String?

    @Option(name: .customLong("webhook-timeout"), help: "Time-out of one webhook attempt (e.g. 5s).")
    var webhookTimeout = "5s"

    @Option(name: .customLong("webhook-retries"), help: "Webhook retries after a failed attempt (0-10).")
    var webhookRetries = 2

    @Option(name: .customLong("webhook-ca-file"), help: "PEM file of the CA(s) to trust for https webhooks.")
    var webhookCAFile: String?

    @Flag(
        name: .customLong("webhook-insecure"),
        help: "Do not verify the webhooks' certificates (tests, self-signed servers)."
    )
    var webhookInsecure = false

    /// The settings these flags describe; secrets come from the files named,
    /// else from SOCKETBUS_SMTP_PASSWORD and SOCKETBUS_WEBHOOK_TOKEN.
    /// Throws a `ValidationError` naming the flag: thrown from a command's
    /// `validate()` or `run()`, ArgumentParser prints it with the usage and
    /// exits with status 64.
    ///
    /// Not checked in a `validate()` of this group: the environment is an
    /// argument here (tests and config files bring their own), and reading
    /// the secret files once, where the settings are used, is enough.
    public func settings(environment: [String: String]) throws -> AlertSettings {
        do {
            let settings = try makeSettings(environment: environment)
            try settings.validate()
            return settings
        } catch let error as AlertOptionError {
            throw ValidationError(error.description)
        } catch let error as AlertSettingsError {
            throw ValidationError(error.description)
        }
    }

    private func makeSettings(environment: [String: String]) throws -> AlertSettings {
        guard let role = AlertRole(rawValue: role) else {
            throw AlertOptionError("--alert-role must be elected, always or never (got '\(role)')")
        }
        var settings = AlertSettings(
            grace: try DurationArgument.parse(grace, option: "alert-grace"),
            repeatInterval: try DurationArgument.parse(repeatInterval, option: "alert-repeat"),
            role: role,
            senders: senders
        )
        settings.smtp = try smtpSettings(environment: environment)
        let token = try SecretFile.read(
            path: webhookTokenFile,
            option: "webhook-token-file",
            environment: environment,
            variable: "SOCKETBUS_WEBHOOK_TOKEN"
        )
        if webhookURLs.isEmpty {
            for (flag, given) in [
                ("webhook-token-file", webhookTokenFile != nil), ("webhook-ca-file", webhookCAFile != nil),
                ("webhook-insecure", webhookInsecure),
            ] where given {
                throw AlertOptionError("--\(flag) needs --webhook-url")
            }
        }
        let delivery = DeliveryPolicy(
            timeout: try DurationArgument.parse(webhookTimeout, option: "webhook-timeout"),
            retries: webhookRetries
        )
        settings.webhooks = webhookURLs.map {
            WebhookSettings(
                url: $0,
                bearerToken: token,
                caFile: webhookCAFile,
                insecure: webhookInsecure,
                delivery: delivery
            )
        }
        return settings
    }

    private func smtpSettings(environment: [String: String]) throws -> SMTPSettings? {
        let recipients = smtpTo.flatMap { $0.split(separator: ",") }.map { String($0).trimmingWhitespace }
            .filter { !$0.isEmpty }
        guard let smtpURL else {
            let given = [
                ("smtp-user", smtpUser != nil), ("smtp-password-file", smtpPasswordFile != nil),
                ("smtp-from", smtpFrom != nil),
                ("smtp-to", !smtpTo.isEmpty), ("smtp-ca-file", smtpCAFile != nil), ("smtp-insecure", smtpInsecure),
            ]
            for (flag, isGiven) in given where isGiven { throw AlertOptionError("--\(flag) needs --smtp-url") }
            return nil
        }
        guard let startTLS = SMTPSettings.StartTLS(rawValue: smtpStartTLS) else {
            throw AlertOptionError("--smtp-starttls must be off, try or require (got '\(smtpStartTLS)')")
        }
        // The password variable counts only with a user: it may be set for another tool.
        let password =
            smtpUser == nil && smtpPasswordFile == nil
            ? nil
            : try SecretFile.read(
                path: smtpPasswordFile,
                option: "smtp-password-file",
                environment: environment,
                variable: "SOCKETBUS_SMTP_PASSWORD"
            )
        return SMTPSettings(
            url: smtpURL,
            startTLS: startTLS,
            username: smtpUser,
            password: password,
            // Missing: AlertSettings.validate() says so, after checking the URL.
            from: smtpFrom ?? "",
            recipients: recipients,
            caFile: smtpCAFile,
            insecure: smtpInsecure,
            delivery: DeliveryPolicy(
                timeout: try DurationArgument.parse(smtpTimeout, option: "smtp-timeout"),
                retries: smtpRetries
            )
        )
    }
}
