import Alerting
import Foundation

/// Reads a secret from the file an option names, or else from an
/// environment variable: secrets never go on the command line, where `ps`
/// shows them to every user of the machine.
enum SecretFile {
    /// The file's content without the trailing line break editors add; nil
    /// when neither the file nor the variable is given.
    static func read(path: String?, option: String, environment: [String: String], variable: String)
        throws(AlertOptionError) -> Secret?
    {
        if let path {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw AlertOptionError("--\(option): cannot read '\(path)': \(Self.reason(error))")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingWhitespace
            if text.isEmpty { throw AlertOptionError("--\(option): '\(path)' is empty") }
            return Secret(text)
        }
        if let value = environment[variable], !value.isEmpty { return Secret(value) }
        return nil
    }

    private static func reason(_ error: any Error) -> String {
        let cocoa = error as NSError
        if let posix = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return cocoa.localizedDescription
    }
}
