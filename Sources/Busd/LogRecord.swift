import Alerting
import Foundation

/// One log line's parts and its two renderings (log.format).
struct LogRecord {
    var timestamp: String
    var level: String
    var label: String
    var message: String
    /// Sorted by key: the same record always reads the same.
    var fields: [(String, String)]

    /// UTC, milliseconds: `2026-12-06T05:53:23.123Z`.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = milliseconds % 1000
        let millisText = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millisText)Z"
    }

    /// Metadata keys named like the record's own fields are prefixed, not lost.
    private static let reserved: Set<String> = ["timestamp", "level", "label", "message"]

    var json: String {
        var out = "{\"timestamp\":\(Self.quotedJSON(timestamp)),\"level\":\(Self.quotedJSON(level))"
        out += ",\"label\":\(Self.quotedJSON(label)),\"message\":\(Self.quotedJSON(message))"
        for (key, value) in fields {
            let name = Self.reserved.contains(key) ? "meta_\(key)" : key
            out += ",\(Self.quotedJSON(name)):\(Self.quotedJSON(value))"
        }
        return out + "}"
    }

    var text: String {
        var out = "\(timestamp) \(level) \(label): \(Self.escapedLine(message))"
        for (key, value) in fields { out += " \(key)=\(Self.quotedText(value))" }
        return out
    }

    /// A JSON string, escaped as the webhook payload's strings are.
    static func quotedJSON(_ value: String) -> String {
        var out = ""
        JSONValue.quote(value, into: &out)
        return out
    }

    /// Plain when it has no space, quote, backslash, `=` or control
    /// character; otherwise quoted with those escaped, so one record stays one line.
    static func quotedText(_ value: String) -> String {
        let plain = !value.isEmpty && !value.unicodeScalars.contains { scalar in
            scalar == " " || scalar == "\"" || scalar == "\\" || scalar == "=" || scalar.value < 0x20
                || scalar.value == 0x7F
        }
        return plain ? value : quotedJSON(value)
    }

    /// The message is not quoted, but a newline in it must not start a new line.
    static func escapedLine(_ value: String) -> String {
        guard value.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return value }
        let quoted = quotedJSON(value)
        return String(quoted.dropFirst().dropLast())
    }
}
