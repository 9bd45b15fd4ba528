/// One setting busd reads: its key in the config file, its flag, its
/// environment variable, its default and what it means. The catalog of
/// these (``SettingsCatalog``) is the single list every layer is checked
/// against, and what `--check-config` and the README's table show.
public struct SettingSpec: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// One value.
        case scalar
        /// Several values: repeated flags, a YAML sequence, or a
        /// comma-separated environment variable.
        case list
        /// A switch: a flag without a value; `true`/`false` elsewhere.
        case boolean
    }

    /// Dotted key, e.g. `redis.url`: the YAML path in the config file.
    public let key: String
    /// The command-line flag without dashes, nil when there is none (secrets:
    /// `ps` would show them to every user of the machine).
    public let flag: String?
    public let kind: Kind
    /// The value used when no layer sets it, as written in a file; nil when
    /// it has none (unset) or a computed one, described in `help`.
    public let defaultValue: String?
    public let help: String
    /// A secret value: from the environment only (or a `*_file` setting),
    /// never from the config file or a flag, never shown.
    public let isSecret: Bool

    public init(
        _ key: String,
        flag: String?,
        kind: Kind = .scalar,
        default defaultValue: String? = nil,
        secret: Bool = false,
        help: String
    ) {
        self.key = key
        self.flag = flag
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.isSecret = secret
    }

    /// `SOCKETBUS_` and the key in capitals, dots made underscores:
    /// `redis.url` → `SOCKETBUS_REDIS_URL`.
    public var environmentVariable: String {
        "SOCKETBUS_" + key.uppercased().replacingDots
    }

    /// Secrets are not read from files or flags: their key may not appear there.
    public var allowedInFile: Bool { !isSecret }
}

extension String {
    fileprivate var replacingDots: String {
        String(map { $0 == "." ? "_" : $0 })
    }
}
