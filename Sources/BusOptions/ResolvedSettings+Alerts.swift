public import Alerting
import Foundation
public import BusConfig

extension ResolvedSettings {
    /// The `alerts.*` settings, checked: errors name the key and where its
    /// value came from. Secrets come from their `*_file` setting, else the
    /// environment.
    public func alertSettings() throws(ConfigError) -> AlertSettings {
        var settings = AlertSettings(
            grace: try duration("alerts.grace"),
            repeatInterval: try duration("alerts.repeat"),
            role: try choice("alerts.role", as: AlertRole.self, among: ["elected", "always", "never"]),
            senders: try integer("alerts.senders", in: 1...1000)
        )
        settings.smtp = try smtpSettings()
        let urls = list("alerts.webhook.urls")
        if urls.isEmpty {
            for key in ["alerts.webhook.token_file", "alerts.webhook.ca_file", "alerts.webhook.insecure"] where isSet(key) {
                throw invalid(key, "needs alerts.webhook.urls (--webhook-url)")
            }
        } else {
            let token = try secret("alerts.webhook.token").map { Secret($0.value) }
            let delivery = try deliveryPolicy("alerts.webhook")
            let caFile = try string("alerts.webhook.ca_file")
            let insecure = try bool("alerts.webhook.insecure")
            settings.webhooks = urls.map {
                WebhookSettings(url: $0, bearerToken: token, caFile: caFile, insecure: insecure, delivery: delivery)
            }
        }
        do {
            try settings.validate()
        } catch {
            throw settingError(error)
        }
        return settings
    }

    private func smtpSettings() throws(ConfigError) -> SMTPSettings? {
        guard let url = try string("alerts.smtp.url") else {
            let dependent = [
                "alerts.smtp.user", "alerts.smtp.password_file", "alerts.smtp.from", "alerts.smtp.to",
                "alerts.smtp.ca_file", "alerts.smtp.insecure",
            ]
            for key in dependent where isSet(key) { throw invalid(key, "needs alerts.smtp.url (--smtp-url)") }
            return nil
        }
        let startTLS = try choice("alerts.smtp.starttls", as: SMTPSettings.StartTLS.self, among: ["off", "try", "require"])
        let user = try string("alerts.smtp.user")
        // The password variable counts only with a user: it may be set for another tool.
        let password =
            user == nil && !isSet("alerts.smtp.password_file")
            ? nil : try secret("alerts.smtp.password").map { Secret($0.value) }
        return SMTPSettings(
            url: url,
            startTLS: startTLS,
            username: user,
            password: password,
            // Missing: validate() says so, after checking the URL.
            from: try string("alerts.smtp.from") ?? "",
            recipients: list("alerts.smtp.to").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            caFile: try string("alerts.smtp.ca_file"),
            insecure: try bool("alerts.smtp.insecure"),
            delivery: try deliveryPolicy("alerts.smtp")
        )
    }

    private func deliveryPolicy(_ section: String) throws(ConfigError) -> DeliveryPolicy {
        DeliveryPolicy(
            timeout: try duration("\(section).timeout"),
            retries: try integer("\(section).retries", in: Int.min...Int.max)
        )
    }

    /// Alerting names the flag of a bad value; report it by key and source.
    private func settingError(_ error: AlertSettingsError) -> ConfigError {
        guard let spec = SettingsCatalog.byFlag[error.option] else {
            return ConfigError(key: error.option, source: nil, reason: error.reason)
        }
        return invalid(spec.key, error.reason)
    }
}
