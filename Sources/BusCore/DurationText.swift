/// Durations as operators write them: `250ms`, `30s`, `5m`, `1h`, or a bare
/// number of seconds (`1.5`).
public enum DurationText {
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws(ParseError) -> Duration {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0, value * scale < 10 * 365 * 86_400 else {
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
