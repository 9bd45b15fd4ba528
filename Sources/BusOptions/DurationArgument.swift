/// Durations as operators write them on the command line: `250ms`, `30s`,
/// `5m`, `1h`, or a bare number of seconds (`1.5`). The same grammar as
/// busd's other duration options (BusCore's DurationText, which this module
/// must not depend on).
enum DurationArgument {
    /// Throws a message that names `option`.
    static func parse(_ text: String, option: String) throws(AlertOptionError) -> Duration {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        let trimmed = text.trimmingWhitespace
        var number = Substring(trimmed)
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
            throw AlertOptionError("--\(option): '\(text)' is not a duration like 250ms, 30s, 5m or 1h")
        }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}

/// A bad option value; the message names the option.
struct AlertOptionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
