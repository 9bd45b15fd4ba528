import Foundation

/// A setting that cannot be used, naming the key, where its value came
/// from and why: `redis.timeout (busd.yaml line 7): '2x' is not a
/// duration like 250ms, 30s, 5m or 1h`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The setting's key, or the file for an error of the file as a whole.
    public let key: String
    public let source: SettingSource?
    public let reason: String

    public init(key: String, source: SettingSource?, reason: String) {
        self.key = key
        self.source = source
        self.reason = reason
    }

    /// Names what the operator wrote: the flag, the variable, or the key
    /// and line of the file.
    public var description: String {
        switch source {
        case .flag(let name): "--\(name): \(reason)"
        case .environment(let name) where name == key: "\(name): \(reason)"
        case .environment(let name): "\(name) (\(key)): \(reason)"
        case .file(let path, let line?): "\(key) (\(path) line \(line)): \(reason)"
        case .file(let path, nil): "\(key) (\(path)): \(reason)"
        case .defaultValue, nil: "\(key): \(reason)"
        }
    }

    /// The bytes of a file, or the reason it cannot be read as `strerror`
    /// says it (Foundation's wording differs between platforms).
    static func readFile(_ path: String) -> Result<[UInt8], FileReadFailure> {
        guard let file = fopen(path, "rb") else {
            return .failure(FileReadFailure(reason: String(cString: strerror(errno))))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes += chunk[0..<n]
            if n < chunk.count {
                if ferror(file) != 0 { return .failure(FileReadFailure(reason: String(cString: strerror(errno)))) }
                return .success(bytes)
            }
            if bytes.count > 16 << 20 { return .failure(FileReadFailure(reason: "larger than 16 MiB")) }
        }
    }
}

/// Where a setting's value came from.
public enum SettingSource: Sendable, Hashable, CustomStringConvertible {
    case flag(String)
    case environment(String)
    case file(path: String, line: Int?)
    case defaultValue

    public var description: String {
        switch self {
        case .flag(let name): "flag --\(name)"
        case .environment(let name): "environment \(name)"
        case .file(let path, let line?): "\(path) line \(line)"
        case .file(let path, nil): path
        case .defaultValue: "default"
        }
    }
}

/// Why a file could not be read, in `strerror`'s words.
struct FileReadFailure: Error {
    let reason: String
}
