/// The settings in effect: for each key, the value of the first layer that
/// sets it — flags, then the environment, then the config file, then the
/// default — and which layer that was.
public struct ResolvedSettings: Sendable {
    public struct Value: Sendable, Hashable {
        public var values: [String]
        public var source: SettingSource
    }

    public let file: ConfigFile?
    private var resolved: [String: Value] = [:]
    /// `SOCKETBUS_*` variables that name no setting (a typo, most likely).
    public private(set) var unknownEnvironment: [String] = []

    /// `flags` maps keys to the values given on the command line (repeated
    /// flags give several). Environment variables are those of
    /// ``SettingSpec/environmentVariable``; a list's is comma-separated.
    public init(flags: [String: [String]], environment: [String: String], file: ConfigFile?) {
        self.file = file
        for spec in SettingsCatalog.all {
            if let given = flags[spec.key], let flag = spec.flag {
                resolved[spec.key] = Value(values: given, source: .flag(flag))
            } else if let text = environment[spec.environmentVariable], !text.isEmpty {
                let values = spec.kind == .list ? Self.commaSeparated(text) : [text]
                resolved[spec.key] = Value(values: values, source: .environment(spec.environmentVariable))
            } else if let entry = file?.entries[spec.key], let path = file?.path {
                resolved[spec.key] = Value(values: entry.values, source: .file(path: path, line: entry.line))
            } else if let value = spec.defaultValue {
                let values = spec.kind == .list ? Self.commaSeparated(value) : [value]
                resolved[spec.key] = Value(values: values, source: .defaultValue)
            }
        }
        let known = Set(SettingsCatalog.all.map(\.environmentVariable)).union(Self.otherVariables)
        unknownEnvironment = environment.keys.filter { $0.hasPrefix("SOCKETBUS_") && !known.contains($0) }.sorted()
    }

    /// Variables of ours that are not settings: the config file, and where
    /// the tests and benchmarks find the binaries and redis-server.
    static let otherVariables: Set<String> = [
        "SOCKETBUS_CONFIG", "SOCKETBUS_BIN_DIR", "SOCKETBUS_BUSD", "SOCKETBUS_REDIS_SERVER", "SOCKETBUS_STATIC_BUSD",
    ]

    /// The value and its source; nil when nothing sets the key.
    public subscript(key: String) -> Value? {
        precondition(SettingsCatalog.byKey[key] != nil, "\(key) is not in the settings catalog")
        return resolved[key]
    }

    static func commaSeparated(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
    }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension ResolvedSettings {
    /// A `SOCKETBUS_*` variable that names no setting is a mistake, as an
    /// unknown key in the file is: the setting it meant is silently unset.
    public var unknownEnvironmentErrors: [ConfigError] {
        unknownEnvironment.map { name in
            let hint = SettingsCatalog.closestVariable(to: name).map { " (did you mean \($0)?)" } ?? ""
            return ConfigError(key: name, source: .environment(name), reason: "names no setting\(hint)")
        }
    }
}

extension SettingsCatalog {
    /// The setting variable nearest to a mistyped one, when it is near enough.
    static func closestVariable(to name: String) -> String? {
        let candidates = all.map(\.environmentVariable) + ResolvedSettings.otherVariables
        let scored = candidates.map { ($0, EditDistance.between($0, name)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, name.count / 5) else { return nil }
        return best.0
    }
}
