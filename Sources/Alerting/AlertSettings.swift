import Durations
import Foundation

/// Everything alerting needs, whichever way it was configured (flags, env,
/// a config file). Built by `AlertOptions.settings(environment:)` in
/// BusOptions; check it with ``validate()``.
public struct AlertSettings: Sendable, Equatable {
    public var smtp: SMTPSettings?
    public var webhooks: [WebhookSettings]
    /// How long Redis must stay unreachable before the first alert.
    public var grace: Duration
    /// How often the alert repeats while the outage lasts; zero: never.
    public var repeatInterval: Duration
    public var role: AlertRole
    /// With role `elected`: how many of the cluster's nodes send.
    public var senders: Int

    public init(
        smtp: SMTPSettings? = nil,
        webhooks: [WebhookSettings] = [],
        grace: Duration = .seconds(10),
        repeatInterval: Duration = .seconds(3600),
        role: AlertRole = .elected,
        senders: Int = 1
    ) {
        self.smtp = smtp
        self.webhooks = webhooks
        self.grace = grace
        self.repeatInterval = repeatInterval
        self.role = role
        self.senders = senders
    }

    /// No channel configured: outages are only logged.
    public var hasChannels: Bool { smtp != nil || !webhooks.isEmpty }

    /// Throws the first problem found, naming the option to fix.
    public func validate() throws(AlertSettingsError) {
        if grace < .zero { throw .init("alert-grace", "must not be negative") }
        if repeatInterval < .zero { throw .init("alert-repeat", "must not be negative (0 turns repeats off)") }
        if senders < 1 { throw .init("alert-senders", "must be at least 1") }
        try smtp?.validate()
        for webhook in webhooks { try webhook.validate() }
    }
}

/// How one channel delivers: the time-out of each attempt, and how many
/// times a failed attempt is retried, with a doubling pause in between.
public struct DeliveryPolicy: Sendable, Equatable {
    /// Bound on one attempt, connection included.
    public var timeout: Duration
    /// Attempts after the first; 2 means at most 3 attempts.
    public var retries: Int
    /// The pause before the first retry; doubled before each next one.
    public var backoff: Duration
    public var maxBackoff: Duration

    public init(timeout: Duration, retries: Int, backoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30)) {
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }

    /// The pause after failed attempt `attempt` (1-based): 1s, 2s, 4s, ... capped.
    public func pause(afterAttempt attempt: Int) -> Duration {
        var pause = backoff
        for _ in 1..<max(1, attempt) where pause < maxBackoff { pause *= 2 }
        return min(pause, maxBackoff)
    }

    /// The longest one delivery can take: every attempt timing out, plus the pauses.
    public var worstCase: Duration {
        (0...retries).reduce(Duration.zero) { total, attempt in
            total + timeout + (attempt < retries ? pause(afterAttempt: attempt + 1) : .zero)
        }
    }

    func validate(prefix: String) throws(AlertSettingsError) {
        if timeout <= .zero { throw .init("\(prefix)-timeout", "must be more than 0") }
        if !(0...10).contains(retries) { throw .init("\(prefix)-retries", "must be between 0 and 10") }
    }
}

/// Which busd of a cluster sends the alerts (docs/alerts.md, "One sender per cluster").
public enum AlertRole: String, Sendable, CaseIterable {
    /// This busd sends whatever the others do.
    case always
    /// This busd sends when its node id is among the first `senders` of the
    /// sorted live node ids it knows, itself included.
    case elected
    /// This busd only logs.
    case never
}

/// A setting that cannot work, named by its option.
public struct AlertSettingsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The option's name without dashes, e.g. `smtp-url` (the same key in a config file).
    public let option: String
    public let reason: String

    public init(_ option: String, _ reason: String) {
        self.option = option
        self.reason = reason
    }

    /// `--smtp-url must start with smtp:// or smtps://`.
    public var description: String { "--\(option) \(reason)" }
}

/// Checks shared by the SMTP and webhook settings.
enum SettingsCheck {
    static func url(_ text: String, option: String, schemes: [String]) throws(AlertSettingsError) -> AlertURL {
        let list = schemes.map { "\($0)://" }.joined(separator: " or ")
        guard let url = AlertURL(text), schemes.contains(url.scheme) else {
            throw .init(option, "must start with \(list) and name a host (got '\(AlertURL.withoutPassword(text))')")
        }
        if url.userinfo != nil {
            throw .init(option, "must not contain credentials: they would be logged; use the -user/-token options")
        }
        return url
    }

    static func readableFile(_ path: String?, option: String) throws(AlertSettingsError) {
        guard let path else { return }
        if !FileManager.default.isReadableFile(atPath: path) { throw .init(option, "cannot read '\(path)'") }
    }
}
