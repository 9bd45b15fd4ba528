@testable import Alerting
import Foundation
import Testing

/// The email: RFC 5322 headers, CRLF everywhere, subjects, no header
/// injection, non-ASCII subjects encoded.
@Suite("Email rendering")
struct EmailMessageTests {
    static func render(_ event: AlertEvent, to: [String] = ["ops@example.com", "oncall@example.com"]) -> String {
        EmailMessage.render(event, from: "busd@example.com", to: to, date: Fixtures.start, messageID: "<id-1@host-a>")
    }

    /// Header lines (unfolded unless `unfold` is false) and body lines.
    static func split(_ message: String, unfold: Bool = true) -> (headers: [String], body: [String]) {
        let parts = message.components(separatedBy: "\r\n\r\n")
        let body = parts.dropFirst().joined(separator: "\r\n\r\n")
        let head = unfold ? parts[0].replacingOccurrences(of: "\r\n ", with: " ") : parts[0]
        return (head.components(separatedBy: "\r\n"), body.components(separatedBy: "\r\n"))
    }

    @Test func headersOfAFiringAlert() {
        let (headers, _) = Self.split(Self.render(Fixtures.firing))
        #expect(
            Array(headers.prefix(8)) == [
                "From: socketbus <busd@example.com>",
                "To: ops@example.com, oncall@example.com",
                "Subject: [socketbus] FIRING: Redis unreachable from node web-1 for 12s",
                "Date: Tue, 14 Nov 2023 22:13:20 +0000",
                "Message-ID: <id-1@host-a>",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit",
            ]
        )
        #expect(headers.contains("X-Socketbus-Status: firing"))
        #expect(headers.contains("X-Socketbus-Fingerprint: 58bafc4f79a9794b"))
        #expect(headers.contains("X-Socketbus-Outage-Start: 2023-11-14T22:13:20.123Z"))
    }

    static let subjects: [(AlertEvent, String)] = [
        (Fixtures.firing, "[socketbus] FIRING: Redis unreachable from node web-1 for 12s"),
        (Fixtures.repeated, "[socketbus] FIRING: Redis unreachable from node web-1 for 1h"),
        (Fixtures.resolved, "[socketbus] RESOLVED: Redis reachable again from node web-1 after 2m 5s"),
        (Fixtures.test, "[socketbus] TEST: Test alert from node web-1"),
        (Fixtures.dataLoss, "[socketbus] NOTICE: Redis dropped messages for node web-1"),
    ]

    @Test(arguments: subjects)
    func subject(_ event: AlertEvent, _ expected: String) {
        #expect(EmailMessage.subject(for: event) == expected)
    }

    @Test(arguments: [Fixtures.firing, Fixtures.repeated, Fixtures.resolved, Fixtures.test, Fixtures.dataLoss])
    func everyLineEndsInCRLFAndIsShort(_ event: AlertEvent) {
        let message = Self.render(event)
        #expect(message.hasSuffix("\r\n"))
        let lines = message.components(separatedBy: "\r\n")
        for line in lines {
            #expect(!line.contains("\n") && !line.contains("\r"), "bare line break in \(line.debugDescription)")
            #expect(line.utf8.count <= 78, "long line \(line.debugDescription)")
        }
    }

    @Test func aDataLossNoticeSaysWhenAndWhy() {
        let message = Self.render(Fixtures.dataLoss)
        let (_, body) = Self.split(message)
        #expect(body.contains("Status:    NOTICE (an event; nothing to resolve)"))
        #expect(body.contains("At:        2023-11-14T22:13:20.123Z"))
        #expect(body.contains("  alertname=RedisDataLoss"))
        #expect(body.contains("  cause=closed_by_redis"))
        #expect(body.joined(separator: " ").contains("Redis closed the subscriber while it kept running"))
        #expect(!message.contains("X-Socketbus-Outage-Start"))
        #expect(!message.contains("hunter2"))
    }

    @Test func bodyTellsWhatHappened() {
        let (_, body) = Self.split(Self.render(Fixtures.resolved))
        #expect(body[0] == "Redis reachable again from node web-1 after 2m 5s.")
        #expect(body.contains("Status:    RESOLVED"))
        #expect(body.contains("Started:   2023-11-14T22:13:20.123Z"))
        #expect(body.contains("Ended:     2023-11-14T22:15:25.123Z"))
        #expect(body.contains("Duration:  2m 5s"))
        #expect(body.contains("  redis=redis://10.0.0.5:6379/0"))
        let (_, repeated) = Self.split(Self.render(Fixtures.repeated))
        #expect(repeated.contains("Status:    FIRING (alert 2 for this outage)"))
        #expect(!Self.render(Fixtures.firing).contains("hunter2"))
    }

    @Test func aNodeNameCannotInjectHeaders() {
        let event = AlertEvent.outageFiring(
            source: AlertSource(node: "evil\r\nBcc: victim@example.com", host: "h", redis: "redis://r"),
            startedAt: Fixtures.start,
            duration: .seconds(10),
            repeatNumber: 1
        )
        let (headers, _) = Self.split(Self.render(event))
        #expect(!headers.contains { $0.hasPrefix("Bcc:") })
        #expect(
            headers.contains(
                "Subject: [socketbus] FIRING: Redis unreachable from node evil Bcc: victim@example.com for 10s"
            )
        )
    }

    @Test func nonASCIISubjectIsEncoded() throws {
        let event = AlertEvent.outageFiring(
            source: AlertSource(node: "nœud-été-ünïcødé-🚀-with-a-rather-long-name", host: "h", redis: "redis://r"),
            startedAt: Fixtures.start,
            duration: .seconds(10),
            repeatNumber: 1
        )
        let message = Self.render(event)
        let (headers, _) = Self.split(message, unfold: false)
        let start = try #require(headers.firstIndex { $0.hasPrefix("Subject: ") })
        var words = [String(headers[start].dropFirst("Subject: ".count))]
        for line in headers[(start + 1)...] {
            guard line.hasPrefix(" ") else { break }
            words.append(String(line.dropFirst()))
        }
        #expect(words.count > 1, "folded into several encoded words")
        var decoded = Data()
        for word in words {
            #expect(word.hasPrefix("=?utf-8?B?") && word.hasSuffix("?="))
            #expect(word.count <= 75)
            decoded += try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
        }
        #expect(String(decoding: decoded, as: UTF8.self) == EmailMessage.subject(for: event))
    }

    @Test func messageIDIsUniqueAndWellFormed() {
        let a = EmailMessage.makeMessageID(for: Fixtures.firing, date: Fixtures.start, host: "host-a.example.com")
        let b = EmailMessage.makeMessageID(for: Fixtures.firing, date: Fixtures.start, host: "host-a.example.com")
        #expect(a != b)
        #expect(a.hasPrefix("<socketbus.58bafc4f79a9794b.1700000000123.") && a.hasSuffix("@host-a.example.com>"))
        #expect(
            EmailMessage.makeMessageID(for: Fixtures.firing, date: Fixtures.start, host: "ä ö").hasSuffix(
                "@socketbus.invalid>"
            )
        )
    }

    @Test func longHeadersAreFoldedAtSpaces() {
        let recipients = (1...6).map { "operator-\($0)@example.com" }
        let message = Self.render(Fixtures.resolved, to: recipients)
        let (raw, _) = Self.split(message, unfold: false)
        #expect(raw.contains("Subject: [socketbus] RESOLVED: Redis reachable again from node web-1 after 2m"))
        #expect(raw.contains(" 5s"))
        #expect(raw.allSatisfy { $0.count <= 78 })
        let (headers, _) = Self.split(message)
        #expect(headers.contains("To: " + recipients.joined(separator: ", ")))
        #expect(headers.contains("Subject: [socketbus] RESOLVED: Redis reachable again from node web-1 after 2m 5s"))
    }

    @Test func wrapping() {
        #expect(EmailMessage.wrap("a b c", width: 3) == ["a b", "c"])
        #expect(EmailMessage.wrap(String(repeating: "x", count: 10) + " y", width: 4) == ["xxxxxxxxxx", "y"])
        #expect(EmailMessage.wrap("one\ntwo") == ["one", "two"])
    }
}
