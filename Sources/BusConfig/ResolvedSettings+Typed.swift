import Durations

/// Typed reads: each throws a ``ConfigError`` naming the key, the layer
/// the bad value came from, and what was expected.
extension ResolvedSettings {
    /// The text of a one-value setting; nil when unset.
    public func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = self[key] else { return nil }
        guard value.values.count == 1 else {
            throw ConfigError(key: key, source: value.source, reason: "takes one value, got \(value.values.count)")
        }
        return value.values[0]
    }

    public func list(_ key: String) -> [String] {
        self[key]?.values ?? []
    }

    public func isSet(_ key: String) -> Bool { self[key] != nil && self[key]?.source != .defaultValue }

    public func bool(_ key: String) throws(ConfigError) -> Bool {
        guard let text = try string(key) else { return false }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw invalid(key, "'\(text)' is not true or false")
        }
    }

    // The readers below are for settings the catalog gives a default: one
    // always applies, so they return a value, never nil.

    /// A duration like `250ms`, `30s`, `5m`, `1h` (a bare number: seconds).
    public func duration(_ key: String, atLeast minimum: Duration = .zero) throws(ConfigError) -> Duration {
        let text = try value(key)
        let duration: Duration
        do {
            duration = try DurationText.parse(text)
        } catch {
            throw invalid(key, error.description)
        }
        if duration < minimum { throw invalid(key, "must be at least \(DurationText.format(minimum))") }
        return duration
    }

    public func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try value(key)
        guard let number = Int(text.trimmingWhitespace.replacingUnderscores) else {
            throw invalid(key, "'\(text)' is not a whole number")
        }
        guard range.contains(number) else {
            throw invalid(key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// One of `choices`, as its raw value.
    public func choice<T: RawRepresentable>(_ key: String, as type: T.Type, among choices: [String]) throws(ConfigError) -> T
    where T.RawValue == String {
        let text = try value(key)
        guard let value = T(rawValue: text) else {
            throw invalid(key, "'\(text)' is not one of \(choices.joined(separator: ", "))")
        }
        return value
    }

    /// The text of a one-value setting the catalog gives a default.
    public func value(_ key: String) throws(ConfigError) -> String {
        guard let text = try string(key) else { throw invalid(key, "has no value (and the catalog gives it no default)") }
        return text
    }

    /// A secret: from the file `<key>_file` names, else from the secret's
    /// environment variable; nil when neither is set. The value is never
    /// part of an error.
    public func secret(_ key: String) throws(ConfigError) -> (value: String, source: SettingSource)? {
        let fileKey = key + "_file"
        if let path = try string(fileKey), let source = self[fileKey]?.source {
            let text: String
            switch ConfigError.readFile(path) {
            case .success(let bytes): text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            case .failure(let failure): throw ConfigError(key: fileKey, source: source, reason: "cannot read '\(path)': \(failure.reason)")
            }
            if text.isEmpty { throw ConfigError(key: fileKey, source: source, reason: "'\(path)' is empty") }
            return (text, source)
        }
        guard let value = self[key] else { return nil }
        return (value.values.joined(separator: ","), value.source)
    }

    /// An error about `key`'s current value.
    public func invalid(_ key: String, _ reason: String) -> ConfigError {
        ConfigError(key: key, source: self[key]?.source, reason: reason)
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(filter { $0 != "_" }) }
}
