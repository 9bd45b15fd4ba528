/// Durations as operators write them: `250ms`, `30s`, `5m`, `1h`, or a bare
/// number of seconds (`1.5`).
public enum DurationText {
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Surrounding white space is ignored; signs, exponents and inner
    /// spaces are not durations.
    public static func parse(_ text: String) throws(ParseError) -> Duration {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var trimmed = Substring(text)
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        var number = trimmed
        var scale = 1.0
        // "ms" before "s" and "m": the first suffix that matches wins.
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(number), value.isFinite, value * scale < 10 * 365 * 86_400
        else {
            throw ParseError(description: "'\(text)' is not a duration like 250ms, 30s, 5m or 1h")
        }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
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
