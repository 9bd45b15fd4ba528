import Alerting
import ArgumentParser
import BusOptions
import Foundation
import Testing

/// The alerting flags: defaults, durations, secrets from files and the
/// environment, and an error naming the flag for everything that cannot work.
@Suite("AlertOptions: flags to settings")
struct AlertOptionsTests {
    static func settings(_ arguments: [String], environment: [String: String] = [:]) throws -> AlertSettings {
        try AlertOptions.parse(arguments).settings(environment: environment)
    }

    /// The message ArgumentParser would print for a failure.
    static func failure(_ arguments: [String], environment: [String: String] = [:]) -> String? {
        do {
            _ = try settings(arguments, environment: environment)
            return nil
        } catch {
            return AlertOptions.message(for: error)
        }
    }

    static func temporaryFile(_ content: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "alertopt-\(UUID().uuidString.prefix(8))"
        )
        try Data(content.utf8).write(to: url)
        return url.path
    }

    @Test func defaults() throws {
        let settings = try Self.settings([])
        #expect(
            settings == AlertSettings(grace: .seconds(10), repeatInterval: .seconds(3600), role: .elected, senders: 1)
        )
        #expect(!settings.hasChannels)
    }

    @Test func everyFlag() throws {
        let passwordFile = try Self.temporaryFile("s3cret\n")
        let tokenFile = try Self.temporaryFile("tok-123\n")
        defer {
            try? FileManager.default.removeItem(atPath: passwordFile)
            try? FileManager.default.removeItem(atPath: tokenFile)
        }
        let settings = try Self.settings([
            "--alert-grace", "250ms", "--alert-repeat", "5m", "--alert-role", "always", "--alert-senders", "2",
            "--smtp-url", "smtps://mail.example.com:465", "--smtp-starttls", "require", "--smtp-user", "busd",
            "--smtp-password-file", passwordFile, "--smtp-from", "busd@example.com", "--smtp-to",
            "a@example.com, b@example.com",
            "--smtp-to", "c@example.com", "--smtp-ca-file", passwordFile, "--smtp-insecure", "--smtp-timeout", "3s",
            "--smtp-retries", "0",
            "--webhook-url", "https://hooks.example.com/a", "--webhook-url", "http://127.0.0.1:9/b",
            "--webhook-token-file", tokenFile,
            "--webhook-timeout", "1.5", "--webhook-retries", "4", "--webhook-ca-file", tokenFile, "--webhook-insecure",
        ])
        #expect(settings.grace == .milliseconds(250))
        #expect(settings.repeatInterval == .seconds(300))
        #expect(settings.role == .always)
        #expect(settings.senders == 2)
        let smtp = try #require(settings.smtp)
        #expect(
            smtp
                == SMTPSettings(
                    url: "smtps://mail.example.com:465",
                    startTLS: .required,
                    username: "busd",
                    password: Secret("s3cret"),
                    from: "busd@example.com",
                    recipients: ["a@example.com", "b@example.com", "c@example.com"],
                    caFile: passwordFile,
                    insecure: true,
                    delivery: DeliveryPolicy(timeout: .seconds(3), retries: 0)
                )
        )
        #expect(smtp.implicitTLS)
        #expect(settings.webhooks.map(\.url) == ["https://hooks.example.com/a", "http://127.0.0.1:9/b"])
        for webhook in settings.webhooks {
            #expect(webhook.bearerToken == Secret("tok-123"))
            #expect(webhook.caFile == tokenFile && webhook.insecure)
            #expect(webhook.delivery == DeliveryPolicy(timeout: .milliseconds(1500), retries: 4))
        }
    }

    @Test func secretsFromTheEnvironmentAndFilesWin() throws {
        let environment = ["SOCKETBUS_ALERTS_SMTP_PASSWORD": "from-env", "SOCKETBUS_ALERTS_WEBHOOK_TOKEN": "env-token"]
        let base = [
            "--smtp-url", "smtp://mail", "--smtp-from", "a@x.org", "--smtp-to", "b@x.org", "--smtp-user", "u",
            "--webhook-url", "http://h/",
        ]
        let fromEnv = try Self.settings(base, environment: environment)
        #expect(fromEnv.smtp?.password == Secret("from-env"))
        #expect(fromEnv.webhooks.first?.bearerToken == Secret("env-token"))
        let file = try Self.temporaryFile("from-file")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try Self.settings(
            base + ["--smtp-password-file", file, "--webhook-token-file", file],
            environment: environment
        )
        #expect(fromFile.smtp?.password == Secret("from-file"))
        #expect(fromFile.webhooks.first?.bearerToken == Secret("from-file"))
        // Without --smtp-user the variable is not used (it may be another tool's).
        let noUser = try Self.settings(
            ["--smtp-url", "smtp://mail", "--smtp-from", "a@x.org", "--smtp-to", "b@x.org"],
            environment: environment
        )
        #expect(noUser.smtp?.password == nil)
    }

    @Test func secretsNeverPrint() throws {
        let settings = try Self.settings(
            [
                "--smtp-url", "smtp://mail", "--smtp-from", "a@x.org", "--smtp-to", "b@x.org", "--smtp-user", "u",
                "--webhook-url", "http://h/",
            ],
            environment: ["SOCKETBUS_ALERTS_SMTP_PASSWORD": "pw-XYZZY", "SOCKETBUS_ALERTS_WEBHOOK_TOKEN": "tok-XYZZY"]
        )
        var dumped = ""
        dump(settings, to: &dumped)
        for text in ["\(settings)", String(reflecting: settings), dumped] {
            #expect(!text.contains("XYZZY"))
        }
        #expect("\(settings)".contains("<redacted>"))
    }

    static let durations: [(String, Duration?)] = [
        ("250ms", .milliseconds(250)), ("30s", .seconds(30)), ("5m", .seconds(300)), ("1h", .seconds(3600)),
        ("1.5", .milliseconds(1500)),
        ("0", .zero), ("0.5s", .milliseconds(500)), (" 10s ", .seconds(10)),
        ("10x", nil), ("-1s", nil), ("s", nil), ("1e3", nil), ("1 h", nil), ("ten", nil), ("99999999h", nil),
    ]

    @Test(arguments: durations)
    func durationSyntax(_ text: String, _ expected: Duration?) {
        let result = Result { try Self.settings(["--alert-grace=\(text)"]) }
        switch (result, expected) {
        case (.success(let settings), let expected?): #expect(settings.grace == expected)
        case (.failure(let error), nil):
            #expect(
                AlertOptions.message(for: error)
                    == "--alert-grace: '\(text)' is not a duration like 250ms, 30s, 1m30s, 5m or 1h"
            )
        default: Issue.record("\(text.debugDescription): \(result)")
        }
    }

    static let smtp = [
        "--smtp-url", "smtp://mail.example.com:587", "--smtp-from", "busd@example.com", "--smtp-to", "ops@example.com",
    ]

    static let invalid: [([String], String)] = [
        (
            ["--smtp-url", "http://mail", "--smtp-from", "a@x.org", "--smtp-to", "b@x.org"],
            "--smtp-url: must start with smtp:// or smtps://"
        ),
        (
            ["--smtp-url", "smtp://", "--smtp-from", "a@x.org", "--smtp-to", "b@x.org"],
            "--smtp-url: must start with smtp:// or smtps:// and name a host"
        ),
        (
            ["--smtp-url", "smtp://mail:99999", "--smtp-from", "a@x.org", "--smtp-to", "b@x.org"],
            "--smtp-url: must start with"
        ),
        (
            ["--smtp-url", "smtp://u:pw@mail", "--smtp-from", "a@x.org", "--smtp-to", "b@x.org"],
            "--smtp-url: must not contain credentials"
        ),
        (["--smtp-url", "smtp://mail", "--smtp-from", "a@x.org"], "alerts.smtp.to: is required with --smtp-url"),
        (["--smtp-url", "smtp://mail", "--smtp-to", "b@x.org"], "alerts.smtp.from: is required with --smtp-url"),
        (
            ["--smtp-url", "smtp://mail", "--smtp-from", "Busd <a@x.org>", "--smtp-to", "b@x.org"],
            "--smtp-from: must be an address"
        ),
        (
            smtp + ["--smtp-to", "not an address"],
            "--smtp-to: must be addresses like ops@example.com (got 'not an address')"
        ),
        (smtp + ["--smtp-to", "x@y.org\r\nRCPT TO:<z@y.org>"], "--smtp-to: must be addresses"),
        (["--smtp-to", "b@x.org"], "--smtp-to: needs alerts.smtp.url (--smtp-url)"),
        (["--smtp-user", "u"], "--smtp-user: needs alerts.smtp.url (--smtp-url)"),
        (["--smtp-insecure"], "--smtp-insecure: needs alerts.smtp.url (--smtp-url)"),
        (
            smtp + ["--smtp-user", "u"],
            "alerts.smtp.password_file: (or SOCKETBUS_ALERTS_SMTP_PASSWORD) is required with --smtp-user"
        ),
        (smtp + ["--smtp-password-file", "/nonexistent/pw"], "--smtp-password-file: cannot read '/nonexistent/pw'"),
        (smtp + ["--smtp-starttls", "maybe"], "--smtp-starttls: 'maybe' is not one of off, try, require"),
        (smtp + ["--smtp-timeout", "0"], "--smtp-timeout: must be more than 0"),
        (smtp + ["--smtp-timeout", "soon"], "--smtp-timeout: 'soon' is not a duration"),
        (smtp + ["--smtp-retries", "11"], "--smtp-retries: must be between 0 and 10"),
        (smtp + ["--smtp-retries=-1"], "--smtp-retries: must be between 0 and 10"),
        (smtp + ["--smtp-ca-file", "/nonexistent/ca.pem"], "--smtp-ca-file: cannot read '/nonexistent/ca.pem'"),
        (["--webhook-url", "ftp://h/x"], "--webhook-url: must start with http:// or https://"),
        (["--webhook-url", "https://user:pw@h/x"], "--webhook-url: must not contain credentials"),
        (["--webhook-url", "http://h/x y"], "--webhook-url: must start with http:// or https://"),
        (["--webhook-token-file", "/etc/hostname"], "--webhook-token-file: needs alerts.webhook.urls (--webhook-url)"),
        (["--webhook-insecure"], "--webhook-insecure: needs alerts.webhook.urls (--webhook-url)"),
        (["--webhook-url", "http://h/", "--webhook-timeout", "5x"], "--webhook-timeout: '5x' is not a duration"),
        (["--webhook-url", "http://h/", "--webhook-retries", "20"], "--webhook-retries: must be between 0 and 10"),
        (["--webhook-url", "http://h/", "--webhook-ca-file", "/nonexistent"], "--webhook-ca-file: cannot read"),
        (["--alert-role", "sometimes"], "--alert-role: 'sometimes' is not one of elected, always, never"),
        (["--alert-senders", "0"], "--alert-senders: 0 is out of range 1...1000"),
        (["--alert-repeat=-5m"], "--alert-repeat: '-5m' is not a duration"),
    ]

    @Test(arguments: invalid)
    func errorsNameTheFlag(_ arguments: [String], _ message: String) {
        let failure = Self.failure(arguments)
        #expect(failure?.hasPrefix(message) == true, "\(arguments): \(failure ?? "no error")")
        #expect(failure?.contains(":pw@") != true, "the error repeats a password")
    }

    @Test func anEmptySecretFileIsAnError() throws {
        let file = try Self.temporaryFile("\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(
            Self.failure(["--webhook-url", "http://h/", "--webhook-token-file", file])
                == "--webhook-token-file: '\(file)' is empty"
        )
        let spaced = try Self.temporaryFile("two words")
        defer { try? FileManager.default.removeItem(atPath: spaced) }
        #expect(
            Self.failure(["--webhook-url", "http://h/", "--webhook-token-file", spaced])?.hasPrefix(
                "--webhook-token-file"
            ) == true
        )
    }
}
