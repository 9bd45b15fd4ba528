public import Foundation

/// An alert as an RFC 5322 email: plain text, UTF-8, CRLF line endings.
///
/// Dot-stuffing (a line starting with "." sent as "..") is not done here:
/// libcurl does it while uploading, and doing it twice would show the reader
/// doubled dots. Tests check a "." line arrives intact.
public enum EmailMessage {
    /// `[socketbus] FIRING: Redis unreachable from node web-1 for 12s`.
    public static func subject(for event: AlertEvent) -> String {
        let tag: String
        switch event.kind {
        case .firing: tag = "FIRING"
        case .resolved: tag = "RESOLVED"
        case .test: tag = "TEST"
        case .notice: tag = "NOTICE"
        }
        return "[socketbus] \(tag): \(event.summary)"
    }

    /// The whole message, headers and body, ready for SMTP DATA.
    public static func render(
        _ event: AlertEvent,
        from: String,
        to recipients: [String],
        date: Date,
        messageID: String
    ) -> String {
        var headers = [
            "From: socketbus <\(headerValue(from))>",
            fold("To: " + recipients.map(headerValue).joined(separator: ", ")),
            "Subject: " + encodedWords(headerValue(subject(for: event))),
            "Date: " + AlertTimestamp.rfc5322(date),
            "Message-ID: " + headerValue(messageID),
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "X-Socketbus-Status: \(event.isTest ? "test" : event.status)",
            "X-Socketbus-Fingerprint: " + WebhookPayload.fingerprint(event.labels),
        ]
        // Mail filters can match the notices of one outage on this header.
        if !event.isTest && event.kind != .notice {
            headers.append("X-Socketbus-Outage-Start: " + AlertTimestamp.rfc3339(event.startsAt))
        }
        let lines = headers + [""] + body(event)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A fresh Message-ID: `<socketbus.<fingerprint>.<ms>.<random>@<host>>`.
    public static func makeMessageID(for event: AlertEvent, date: Date, host: String) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) / 1000
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let domainCharacters = host.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        let domain = domainCharacters.isEmpty ? "socketbus.invalid" : domainCharacters
        return "<socketbus.\(WebhookPayload.fingerprint(event.labels)).\(ms).\(random)@\(domain)>"
    }

    static func body(_ event: AlertEvent) -> [String] {
        var lines = wrap(event.summary + ".") + [""] + wrap(event.details) + [""]
        switch event.kind {
        case .firing(let repeatNumber): lines.append("Status:    FIRING (alert \(repeatNumber) for this outage)")
        case .resolved: lines.append("Status:    RESOLVED")
        case .test: lines.append("Status:    TEST (no outage)")
        case .notice: lines.append("Status:    NOTICE (an event; nothing to resolve)")
        }
        if event.kind == .notice {
            lines.append("At:        " + AlertTimestamp.rfc3339(event.startsAt))
        } else if event.kind != .test {
            lines.append("Started:   " + AlertTimestamp.rfc3339(event.startsAt))
            if let endsAt = event.endsAt { lines.append("Ended:     " + AlertTimestamp.rfc3339(endsAt)) }
            lines.append("Duration:  " + HumanDuration.format(event.duration))
        }
        let names = event.labels.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        lines.append("")
        lines.append("Labels:")
        for name in names { lines.append("  \(name)=\(event.labels[name]!)") }
        lines += ["", "-- ", "Sent by socketbus. Webhooks receive the same alert as JSON (docs/alerts.md)."]
        // Any line break inside a value becomes a line of its own, so no bare
        // LF or CR reaches the wire.
        return lines.flatMap {
            $0.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        }
    }

    /// Greedy word wrap at 76 columns; a longer word stays whole on its line.
    static func wrap(_ text: String, width: Int = 76) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if !line.isEmpty && line.count + 1 + word.count > width {
                    lines.append(line)
                    line = ""
                }
                line += line.isEmpty ? String(word) : " " + word
            }
            lines.append(line)
        }
        return lines
    }

    /// RFC 5322 folding: a header longer than 78 characters continues on
    /// lines that start with a space, broken where it had a space (a reader
    /// unfolds it by removing the CRLFs). A single longer word stays whole.
    static func fold(_ header: String) -> String {
        guard header.count > 78 else { return header }
        var words = header.split(separator: " ", omittingEmptySubsequences: false)[...]
        // Each line after the first starts with the space it was broken at.
        var lines = [String(words.removeFirst())]
        for word in words {
            if lines[lines.count - 1].count + 1 + word.count > 78 {
                lines.append(" " + word)
            } else {
                lines[lines.count - 1] += " " + word
            }
        }
        return lines.joined(separator: "\r\n")
    }

    /// A header value cannot contain line breaks: they would start new
    /// headers (a node name is operator input).
    static func headerValue(_ text: String) -> String {
        String(text.map { $0.isNewline || ($0.isASCII && $0.asciiValue! < 0x20) ? " " : $0 })
    }

    /// RFC 2047: non-ASCII header text as `=?utf-8?B?...?=` words of at
    /// most 45 bytes each (75 characters encoded), folded onto new lines.
    static func encodedWords(_ text: String) -> String {
        guard !text.allSatisfy(\.isASCII) else { return String(fold("Subject: " + text).dropFirst("Subject: ".count)) }
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }
}
