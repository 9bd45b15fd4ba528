import Foundation

/// Builds a page in the Prometheus text exposition format (version 0.0.4):
/// for each family a `# HELP` and `# TYPE` line, then its samples.
public struct PrometheusText: Sendable {
    public enum MetricType: String, Sendable {
        case counter, gauge, histogram
    }

    public private(set) var text = ""
    private var declared = Set<String>()

    public init() {}

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// One sample; the family's HELP and TYPE lines come with its first sample.
    public mutating func add(
        _ name: String,
        _ type: MetricType,
        help: String,
        labels: KeyValuePairs<String, String> = [:],
        value: Double
    ) {
        if declared.insert(name).inserted {
            text += "# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
        }
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.key)=\"\(Self.escapedLabel($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " \(Self.format(value))\n"
    }

    public mutating func add(
        _ name: String,
        _ type: MetricType,
        help: String,
        labels: KeyValuePairs<String, String> = [:],
        value: Int
    ) {
        add(name, type, help: help, labels: labels, value: Double(value))
    }

    /// A family with one label: one sample per (label value, value), in order.
    public mutating func add(
        _ name: String,
        _ type: MetricType,
        help: String,
        by label: String,
        _ samples: KeyValuePairs<String, Int>
    ) {
        for (labelValue, value) in samples {
            add(name, type, help: help, labels: [label: labelValue], value: Double(value))
        }
    }

    /// A histogram family: `_bucket{le=…}` per bound (cumulative) and +Inf,
    /// then `_sum` and `_count`.
    public mutating func addHistogram(
        _ name: String,
        help: String,
        bounds: [Double],
        cumulative: [Int],
        count: Int,
        sum: Double
    ) {
        if declared.insert(name).inserted {
            text += "# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) histogram\n"
        }
        for (bound, value) in zip(bounds, cumulative) {
            text += "\(name)_bucket{le=\"\(Self.format(bound))\"} \(value)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(count)\n"
        text += "\(name)_sum \(Self.format(sum))\n"
        text += "\(name)_count \(count)\n"
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A HELP text: backslash and line feed escaped.
    static func escapedHelp(_ text: String) -> String {
        escaped(text, quote: false)
    }

    /// A label value: backslash, line feed and double quote escaped.
    static func escapedLabel(_ text: String) -> String {
        escaped(text, quote: true)
    }

    /// One pass over the bytes, and none at all for the usual text with
    /// nothing to escape. (Foundation's replacingOccurrences, twice or three
    /// times per sample, was 72 % of a /metrics scrape's instructions.)
    private static func escaped(_ text: String, quote: Bool) -> String {
        let backslash = UInt8(ascii: "\\"), lineFeed = UInt8(ascii: "\n"), doubleQuote = UInt8(ascii: "\"")
        let needsEscape = text.utf8.contains { $0 == backslash || $0 == lineFeed || (quote && $0 == doubleQuote) }
        guard needsEscape else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case backslash: bytes += [backslash, backslash]
            case lineFeed: bytes += [backslash, UInt8(ascii: "n")]
            case doubleQuote where quote: bytes += [backslash, doubleQuote]
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One sample read back from a page (what `busctl status` shows).
public struct PrometheusSample: Sendable, Hashable {
    public var name: String
    public var labels: [String: String]
    public var value: Double

    /// The samples of a page; comment lines and lines that do not parse are skipped.
    public static func parse(_ page: String) -> [PrometheusSample] {
        page.split(separator: "\n").compactMap { parseLine(Substring($0)) }
    }

    static func parseLine(_ line: Substring) -> PrometheusSample? {
        guard let first = line.first, first != "#" else { return nil }
        var rest = line[...]
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while let next = rest.first, next != "}" {
                if next == "," || next == " " {
                    rest = rest.dropFirst()
                    continue
                }
                let key = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    if c == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(c)
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[String(key)] = value
            }
            guard rest.first == "}" else { return nil }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let text = fields.first else { return nil }
        let value: Double? =
            switch text {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(text)
            }
        guard let value else { return nil }
        return PrometheusSample(name: String(name), labels: labels, value: value)
    }
}
