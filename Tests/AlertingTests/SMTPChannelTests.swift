@testable import Alerting
import Foundation
import Testing
import TestSupport

/// Email through libcurl to a real SMTP server (aiosmtpd, Tests/Sinks/smtp_sink.py):
/// plain, STARTTLS, implicit TLS, AUTH, several recipients.
@Suite("SMTP channel against a real aiosmtpd server")
struct SMTPChannelTests {
    static let recipients = ["ops@example.com", "oncall@example.org"]

    static func settings(
        _ url: String,
        startTLS: SMTPSettings.StartTLS = .opportunistic,
        username: String? = nil,
        password: String? = nil,
        caFile: String? = nil,
        insecure: Bool = false
    ) -> SMTPSettings {
        SMTPSettings(
            url: url,
            startTLS: startTLS,
            username: username,
            password: password.map(Secret.init),
            from: "busd@example.com",
            recipients: recipients,
            caFile: caFile,
            insecure: insecure,
            delivery: DeliveryPolicy(timeout: .seconds(10), retries: 0)
        )
    }

    static func channel(_ settings: SMTPSettings) throws -> SMTPChannel {
        try settings.validate()
        return SMTPChannel(settings: settings, hostName: "host-a")
    }

    @Test func plainDeliveryToTwoRecipients() throws {
        let sink = try PythonSink(script: "smtp_sink.py", arguments: ["--mode", "plain"])
        try Self.channel(Self.settings("smtp://127.0.0.1:\(sink.port)", startTLS: .off)).deliver(Fixtures.firing)
        let records = sink.records()
        try #require(records.count == 1)
        #expect(records[0]["mail_from"] as? String == "busd@example.com")
        #expect(records[0]["rcpt_tos"] as? [String] == Self.recipients)
        #expect(records[0]["tls"] as? Bool == false)
        let data = try #require(records[0]["data"] as? String)
        #expect(data.contains("\r\nSubject: [socketbus] FIRING: Redis unreachable from node web-1 for 12s\r\n"))
        #expect(data.contains("\r\nTo: ops@example.com, oncall@example.org\r\n"))
        #expect(data.contains("\r\n\r\nRedis unreachable from node web-1 for 12s.\r\n"))
        #expect(data.hasSuffix("\r\n"))
    }

    /// Lines starting with "." arrive as written: libcurl dot-stuffs them
    /// on the wire and the server removes the stuffing.
    @Test func dotLinesArriveIntact() throws {
        let sink = try PythonSink(script: "smtp_sink.py", arguments: ["--mode", "plain"])
        var event = Fixtures.test
        event.details = ".\n.leading dot\n..two dots\nlast"
        try Self.channel(Self.settings("smtp://127.0.0.1:\(sink.port)", startTLS: .off)).deliver(event)
        let data = try #require(sink.records().first?["data"] as? String)
        #expect(data.contains("\r\n\r\n.\r\n.leading dot\r\n..two dots\r\nlast\r\n"))
    }

    @Test func startTLSRequiredWithTheTestCA() throws {
        let certificate = try SelfSignedCertificate()
        let sink = try PythonSink(
            script: "smtp_sink.py",
            arguments: [
                "--mode", "starttls", "--require-starttls", "--cert", certificate.certificatePath, "--key",
                certificate.keyPath,
            ]
        )
        let url = "smtp://127.0.0.1:\(sink.port)"
        try Self.channel(Self.settings(url, startTLS: .required, caFile: certificate.certificatePath)).deliver(
            Fixtures.firing
        )
        #expect(sink.records().first?["tls"] as? Bool == true)

        // "try" upgrades too when the server offers it.
        try Self.channel(Self.settings(url, startTLS: .opportunistic, caFile: certificate.certificatePath)).deliver(
            Fixtures.resolved
        )
        #expect(sink.records().count == 2)
        #expect(sink.records().last?["tls"] as? Bool == true)

        // Certificates are verified: the system CAs do not know the test's.
        let unverified = #expect(throws: ChannelError.self) {
            try Self.channel(Self.settings(url, startTLS: .required)).deliver(Fixtures.firing)
        }
        #expect(
            unverified?.description.lowercased().contains("certificate") == true,
            "\(unverified.map(String.init(describing:)) ?? "")"
        )

        // Without STARTTLS this server refuses the mail.
        #expect(throws: ChannelError.self) {
            try Self.channel(Self.settings(url, startTLS: .off)).deliver(Fixtures.firing)
        }
        #expect(sink.records().count == 2)
    }

    @Test func implicitTLS() throws {
        let certificate = try SelfSignedCertificate()
        let sink = try PythonSink(
            script: "smtp_sink.py",
            arguments: ["--mode", "tls", "--cert", certificate.certificatePath, "--key", certificate.keyPath]
        )
        let url = "smtps://127.0.0.1:\(sink.port)"
        try Self.channel(Self.settings(url, caFile: certificate.certificatePath)).deliver(Fixtures.firing)
        try Self.channel(Self.settings(url, insecure: true)).deliver(Fixtures.resolved)
        let records = sink.records()
        #expect(records.count == 2)
        #expect(records.allSatisfy { $0["tls"] as? Bool == true && $0["rcpt_tos"] as? [String] == Self.recipients })
        #expect(throws: ChannelError.self) { try Self.channel(Self.settings(url)).deliver(Fixtures.firing) }
    }

    @Test func authWithTheRightPasswordAndTheWrongOne() throws {
        let certificate = try SelfSignedCertificate()
        let sink = try PythonSink(
            script: "smtp_sink.py",
            arguments: [
                "--mode", "starttls", "--require-starttls", "--auth", "busd:pw-right", "--auth-require-tls",
                "--cert", certificate.certificatePath, "--key", certificate.keyPath,
            ]
        )
        let url = "smtp://127.0.0.1:\(sink.port)"
        try Self.channel(
            Self.settings(
                url,
                startTLS: .required,
                username: "busd",
                password: "pw-right",
                caFile: certificate.certificatePath
            )
        ).deliver(Fixtures.firing)
        let records = sink.records()
        #expect(records.count == 1)
        #expect(records.first?["authenticated"] as? Bool == true)

        let refused = #expect(throws: ChannelError.self) {
            try Self.channel(
                Self.settings(
                    url,
                    startTLS: .required,
                    username: "busd",
                    password: "pw-WRONG",
                    caFile: certificate.certificatePath
                )
            ).deliver(Fixtures.firing)
        }
        let text = refused.map(String.init(describing:)) ?? ""
        #expect(text.contains("Login denied"), "\(text)")
        #expect(!text.contains("pw-WRONG"))
        // Without credentials the server refuses the mail (AUTH is required).
        #expect(throws: ChannelError.self) {
            try Self.channel(Self.settings(url, startTLS: .required, caFile: certificate.certificatePath)).deliver(
                Fixtures.firing
            )
        }
        #expect(sink.records().count == 1)
    }
}

@Suite("SMTP EHLO name")
struct SMTPHeloTests {
    static let cases: [(String, String, String)] = [
        ("smtp://mail:25", "host-a.example.com", "smtp://mail:25/host-a.example.com"),
        ("smtps://mail/", "host-a", "smtps://mail/host-a"),
        ("smtp://mail/already.example.com", "host-a", "smtp://mail/already.example.com"),
        ("smtp://mail", "bad host", "smtp://mail"),
        ("smtp://mail", "", "smtp://mail"),
    ]

    @Test(arguments: cases)
    func urlNamesThisHost(_ url: String, _ host: String, _ expected: String) {
        #expect(SMTPChannel.urlNamingThisHost(url, hostName: host) == expected)
    }
}
