import Alerting
import SocketIOCodec

/// `busctl alert-test --json`: each channel's outcome, with fixed field names.
enum AlertTestReport {
    static func json(results: [ChannelResult], error: String?) -> String {
        let channels = results.map { result in
            JSValue.object(
                JSObject([
                    ("channel", .string(result.channel)),
                    ("target", .string(result.target)),
                    ("ok", .bool(result.succeeded)),
                    ("attempts", .number(Double(result.attempts))),
                    ("elapsed_ms", .number(Double(milliseconds(result.elapsed)))),
                    ("error", result.error.map(JSValue.string) ?? .null),
                ])
            )
        }
        let failed = results.filter { !$0.succeeded }.count
        var pairs: [(String, JSValue)] = [
            ("channels", .array(channels)),
            ("ok", .number(Double(results.count - failed))),
            ("failed", .number(Double(failed))),
        ]
        if let error { pairs.append(("error", .string(error))) }
        return JSONStringifier.string(.object(JSObject(pairs))) ?? "{}"
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
