/// Durations as operators write them: `250ms`, `30s`, `5m`, `1h`, units
/// combined from the largest down (`1m30s`, `1h15m`, `2s500ms`), or a bare
/// number of seconds (`1.5`).
public enum DurationText {
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    private static let units: [(suffix: String, milliseconds: Double)] = [
        ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]
    /// Ten years: longer is a typo, and keeps the arithmetic far from overflow.
    private static let longest = 10 * 365 * 86_400_000.0

    /// Surrounding white space is ignored; signs, exponents and inner
    /// spaces are not durations, nor are units out of order (`30s1m`) or
    /// repeated (`1s2s`).
    public static func parse(_ text: String) throws(ParseError) -> Duration {
        let trimmed = Substring(text).drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        let invalid = ParseError(description: "'\(text)' is not a duration like 250ms, 30s, 1m30s, 5m or 1h")
        let body = String(trimmed)
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0.isLetter) }) else {
            throw invalid
        }
        // A bare number: seconds.
        if body.allSatisfy({ $0.isNumber || $0 == "." }) {
            return .milliseconds(
                Int64(try milliseconds(number: Substring(body), scale: 1000, invalid: invalid).rounded())
            )
        }
        var total = 0.0
        var rest = Substring(body)
        var lastUnit = -1
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let suffix = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(suffix.count)
            guard let unit = units.firstIndex(where: { $0.suffix == suffix }), unit > lastUnit else { throw invalid }
            lastUnit = unit
            total += try milliseconds(number: number, scale: units[unit].milliseconds, invalid: invalid)
        }
        guard total < longest else { throw invalid }
        return .milliseconds(Int64(total.rounded()))
    }

    /// `number` × `scale` in milliseconds, below ``longest``.
    private static func milliseconds(number: Substring, scale: Double, invalid: ParseError) throws(ParseError) -> Double
    {
        guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1, let value = Double(number), value.isFinite,
            value * scale < longest
        else { throw invalid }
        return value * scale
    }

    /// The shortest exact text: `1h`, `90s`, `250ms`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
