import Durations
import Curl
import Foundation

/// Email through libcurl's SMTP client: STARTTLS or implicit TLS, AUTH
/// (whatever mechanism the server offers and libcurl knows), several
/// recipients in one transaction.
public struct SMTPChannel: AlertChannel {
    public let settings: SMTPSettings
    /// This machine's name, for Message-IDs.
    public let hostName: String
    public let name = "smtp"

    public init(settings: SMTPSettings, hostName: String) {
        self.settings = settings
        self.hostName = hostName
    }

    public var delivery: DeliveryPolicy { settings.delivery }

    public var target: String {
        let origin = AlertURL(settings.url)?.origin ?? "?"
        return "\(origin) to \(settings.recipients.joined(separator: ", "))"
    }

    public func deliver(_ event: AlertEvent) throws(ChannelError) {
        let now = Date()
        let message = EmailMessage.render(
            event,
            from: settings.from,
            to: settings.recipients,
            date: now,
            messageID: EmailMessage.makeMessageID(for: event, date: now, host: hostName)
        )
        do {
            let curl = try CurlEasy()
            try curl.set(.url, Self.urlNamingThisHost(settings.url, hostName: hostName))
            try curl.set(.protocols, "smtp,smtps")
            try curl.set(.useSSL, (settings.implicitTLS ? CurlUseSSL.require : Self.useSSL(settings.startTLS)).rawValue)
            if let username = settings.username { try curl.set(.username, username) }
            if let password = settings.password { try curl.set(.password, password.value) }
            try curl.set(.mailFrom, "<\(settings.from)>")
            try curl.set(.mailRecipients, settings.recipients.map { "<\($0)>" })
            // One refused recipient must not keep the alert from the others;
            // the transfer still fails when every recipient is refused.
            try curl.set(.mailRecipientAllowFails, 1)
            try TransferLimits.apply(
                delivery: settings.delivery,
                caFile: settings.caFile,
                insecure: settings.insecure,
                to: curl
            )
            try curl.setUpload(Array(message.utf8))
            _ = try curl.perform()
        } catch {
            throw .transfer(error.description)
        }
    }

    /// libcurl says EHLO with the URL's path, or "localhost" without one,
    /// which some mail servers refuse: a URL without a path gets this
    /// machine's name (when it is a plausible domain name).
    static func urlNamingThisHost(_ url: String, hostName: String) -> String {
        guard let parsed = AlertURL(url), parsed.rest.isEmpty || parsed.rest == "/" else { return url }
        let plausible =
            !hostName.isEmpty
            && hostName.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
        guard plausible else { return url }
        return (url.hasSuffix("/") ? url : url + "/") + hostName
    }

    static func useSSL(_ policy: SMTPSettings.StartTLS) -> CurlUseSSL {
        switch policy {
        case .off: return .none
        case .opportunistic: return .tryTLS
        case .required: return .require
        }
    }
}

/// Options both channels set the same way.
enum TransferLimits {
    static func apply(delivery: DeliveryPolicy, caFile: String?, insecure: Bool, to curl: CurlEasy) throws(CurlError) {
        let ms = Int(max(1, delivery.timeout.milliseconds))
        try curl.set(.timeoutMilliseconds, ms)
        try curl.set(.connectTimeoutMilliseconds, ms)
        if let caFile { try curl.set(.caFile, caFile) }
        if insecure {
            try curl.set(.verifyPeer, 0)
            try curl.set(.verifyHost, 0)
        }
    }
}
