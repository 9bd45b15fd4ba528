/// Every setting that cannot be used, not only the first: an operator who
/// fixes one mistake should not meet the next on the following start.
public struct ConfigProblems: Error, CustomStringConvertible, Sendable, Equatable {
    /// In the order the settings were read; never empty.
    public let errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One line per problem.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Reads settings one by one, keeping each failure and going on, so that
/// one run reports them all.
public struct ConfigCollector: Sendable {
    public private(set) var errors: [ConfigError] = []

    public init() {}

    /// The value `read` returns, or nil after recording its error.
    public mutating func read<T>(_ read: () throws(ConfigError) -> T) -> T? {
        do {
            return try read()
        } catch {
            errors.append(error)
            return nil
        }
    }

    public mutating func record(_ error: ConfigError) { errors.append(error) }

    /// Throws what was recorded, if anything.
    public func finish() throws(ConfigProblems) {
        if !errors.isEmpty { throw ConfigProblems(errors) }
    }
}
