import Foundation
import Yams

/// A YAML config file, flattened to dotted keys:
///
/// ```yaml
/// redis:
///   url: redis://10.0.0.5:6379
/// alerts:
///   smtp:
///     to: [ops@example.com, oncall@example.com]
/// ```
///
/// gives `redis.url` and `alerts.smtp.to`. Every key must be one of
/// ``SettingsCatalog``: a typo is an error naming the line, not a setting
/// silently ignored. Scalars are read as text and typed later, per setting,
/// so YAML's guesses (`no` as false, `010` as 8) never apply.
public struct ConfigFile: Sendable {
    public struct Entry: Sendable, Hashable {
        public var values: [String]
        public var line: Int?
    }

    public let path: String
    public private(set) var entries: [String: Entry] = [:]
    /// The entries that were left out, each with why (an unknown key, a
    /// secret, a list where one value goes...). The throwing initializers
    /// throw the first; ``named(byFlag:environment:keepingProblems:)`` keeps
    /// them all, for a report of every mistake at once.
    public private(set) var problems: [ConfigError] = []

    /// The file `--config` names, else `SOCKETBUS_CONFIG`; nil when neither
    /// does. With `keepingProblems`, only a file that cannot be read as a
    /// whole throws; its entries' problems are in ``problems``.
    public static func named(
        byFlag path: String?,
        environment: [String: String],
        keepingProblems: Bool = false
    ) throws(ConfigError) -> ConfigFile? {
        guard let path = path ?? environment["SOCKETBUS_CONFIG"], !path.isEmpty else { return nil }
        return try ConfigFile(path: path, keepingProblems: keepingProblems)
    }

    /// Reads and checks the file at `path`.
    public init(path: String, keepingProblems: Bool = false) throws(ConfigError) {
        switch ConfigError.readFile(path) {
        case .success(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw ConfigError(key: "config", source: .file(path: path, line: nil), reason: "is not UTF-8 text")
            }
            try self.init(path: path, text: text, keepingProblems: keepingProblems)
        case .failure(let failure):
            throw ConfigError(
                key: "config",
                source: .file(path: path, line: nil),
                reason: "cannot be read (\(failure.reason))"
            )
        }
    }

    /// Checks `text` as the content of the file `path` (tests, `--check-config`).
    public init(path: String, text: String, keepingProblems: Bool = false) throws(ConfigError) {
        self.path = path
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let (reason, line) = Self.yamlProblem(error)
            throw ConfigError(
                key: "config",
                source: .file(path: path, line: line),
                reason: "is not valid YAML: \(reason)"
            )
        }
        guard let root else { return }  // an empty file sets nothing
        guard case .mapping(let mapping) = root else {
            throw ConfigError(
                key: "config",
                source: .file(path: path, line: root.mark?.line),
                reason: "must be a mapping of settings"
            )
        }
        flatten(mapping, prefix: "")
        if !keepingProblems, let first = problems.first { throw first }
    }

    private mutating func flatten(_ mapping: Node.Mapping, prefix: String) {
        for (keyNode, value) in mapping {
            do {
                try add(keyNode, value, prefix: prefix)
            } catch {
                problems.append(error)
            }
        }
    }

    /// One key of a mapping: a section's settings, or a setting's value.
    private mutating func add(_ keyNode: Node, _ value: Node, prefix: String) throws(ConfigError) {
        let line = keyNode.mark?.line
        guard case .scalar(let name) = keyNode, !name.string.isEmpty else {
            throw error(prefix.isEmpty ? "config" : prefix, line, "keys must be plain names")
        }
        let key = prefix + name.string
        if case .mapping(let inner) = value, SettingsCatalog.byKey[key] == nil {
            guard SettingsCatalog.isSection(key) else { throw unknown(key, line) }
            flatten(inner, prefix: key + ".")
            return
        }
        guard let spec = SettingsCatalog.byKey[key] else {
            throw SettingsCatalog.isSection(key)
                ? error(
                    key,
                    line,
                    "is a section: give its settings under it (e.g. \(SettingsCatalog.example(in: key)))"
                )
                : unknown(key, line)
        }
        guard spec.allowedInFile else {
            throw error(
                key,
                line,
                "secrets are not read from the config file: use \(key)_file or \(spec.environmentVariable)"
            )
        }
        if entries[key] != nil { throw error(key, line, "is set twice") }
        switch value {
        case .scalar(let scalar):
            if Self.isNull(scalar) { return }
            entries[key] = Entry(values: [scalar.string], line: line)
        case .sequence(let sequence):
            guard spec.kind == .list else { throw error(key, line, "takes one value, not a list") }
            var values: [String] = []
            for item in sequence {
                guard case .scalar(let scalar) = item else {
                    throw error(key, item.mark?.line ?? line, "list items must be plain values")
                }
                values.append(scalar.string)
            }
            entries[key] = Entry(values: values, line: line)
        case .mapping, .alias:
            throw error(key, line, "takes a value, not a mapping")
        }
    }

    /// What is wrong and where, without the offending line's text: Yams
    /// quotes it, and it may hold a password (`url: redis://:secret@...`).
    static func yamlProblem(_ error: any Error) -> (reason: String, line: Int?) {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { "\($0.text) (line \($0.mark.line)), " } ?? ""
            return ("\(while_)\(problem) at column \(mark.column)", mark.line)
        case .reader(let problem, let offset, _, _):
            return ("\(problem)\(offset.map { " at byte \($0)" } ?? "")", nil)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ("duplicated key(s) \(duplicates.sorted().joined(separator: ", "))", context.mark.line)
        default:
            return ("it cannot be parsed", nil)
        }
    }

    private static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func error(_ key: String, _ line: Int?, _ reason: String) -> ConfigError {
        ConfigError(key: key, source: .file(path: path, line: line), reason: reason)
    }

    private func unknown(_ key: String, _ line: Int?) -> ConfigError {
        let hint = SettingsCatalog.closestKey(to: key).map { " (did you mean \($0)?)" } ?? ""
        return error(key, line, "is not a setting\(hint)")
    }
}

extension SettingsCatalog {
    /// `redis` or `alerts.smtp`: a prefix of some key.
    static func isSection(_ name: String) -> Bool {
        all.contains { $0.key.hasPrefix(name + ".") }
    }

    static func example(in section: String) -> String {
        all.first { $0.key.hasPrefix(section + ".") && !$0.isSecret }?.key ?? section
    }

    /// The catalog key nearest to a mistyped one, when it is near enough.
    static func closestKey(to key: String) -> String? {
        let scored = all.filter(\.allowedInFile).map { ($0.key, EditDistance.between($0.key, key)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, key.count / 4) else { return nil }
        return best.0
    }
}

/// Levenshtein distance, for "did you mean" hints on short keys.
enum EditDistance {
    static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
