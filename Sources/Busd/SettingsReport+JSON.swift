import BusConfig
import SocketIOCodec

/// `busd --check-config --json`: one JSON object, valid or not, with fixed
/// field names; secrets are "(set)" as in the text form.
extension SettingsReport {
    static func json(_ settings: ResolvedSettings, effective: DaemonSettings) -> String {
        let rows = rows(settings, effective: effective).map { row in
            JSValue.object(
                JSObject([
                    ("key", .string(row.key)), ("value", row.value.map(JSValue.string) ?? .null),
                    ("source", .string(row.source)),
                ])
            )
        }
        let document = JSObject([
            ("valid", .bool(true)),
            ("file", settings.file.map { .string($0.path) } ?? .null),
            ("errors", .array([])),
            ("settings", .array(rows)),
        ])
        return JSONStringifier.string(.object(document)) ?? "{}"
    }

    /// Every problem, each with the setting key it is about.
    static func json(problems: ConfigProblems) -> String {
        let errors = problems.errors.map { error in
            JSValue.object(
                JSObject([
                    ("key", .string(error.key)),
                    ("source", error.source.map { .string($0.description) } ?? .null),
                    ("reason", .string(error.reason)),
                    ("message", .string(error.description)),
                ])
            )
        }
        let document = JSObject([("valid", .bool(false)), ("errors", .array(errors))])
        return JSONStringifier.string(.object(document)) ?? "{}"
    }
}
