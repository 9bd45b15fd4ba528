import CCurl

/// A libcurl failure: the handle could not be made, an option was refused,
/// or the transfer failed.
///
/// A struct over a private enum, so that new failure kinds do not break
/// callers that switch on them; callers ask the questions they need
/// (``isTimeout``, ``code``) instead.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case globalInit(code: UInt32)
        case handle
        case option(name: String, code: UInt32)
        case transfer(code: UInt32, detail: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    static func globalInit(_ code: CURLcode) -> CurlError { CurlError(.globalInit(code: code.rawValue)) }
    static var handle: CurlError { CurlError(.handle) }
    static func option(_ name: String, _ code: CURLcode) -> CurlError {
        CurlError(.option(name: name, code: code.rawValue))
    }
    static func transfer(_ code: CURLcode, detail: String) -> CurlError {
        CurlError(.transfer(code: code.rawValue, detail: detail))
    }

    /// The CURLcode (0 when the failure has none, such as a failed `curl_easy_init`).
    public var code: Int {
        switch kind {
        case .globalInit(let code), .option(_, let code), .transfer(let code, _): return Int(code)
        case .handle: return 0
        }
    }

    /// The transfer ran out of time (CURLE_OPERATION_TIMEDOUT).
    public var isTimeout: Bool {
        if case .transfer(let code, _) = kind { return code == CURLE_OPERATION_TIMEDOUT.rawValue }
        return false
    }

    /// libcurl's own text for the failure: the error buffer when it has one
    /// (it names the host and what went wrong), else `curl_easy_strerror`.
    ///
    /// It never contains credentials: libcurl does not print them, and the
    /// URLs this package hands it carry none.
    public var description: String {
        switch kind {
        case .globalInit(let code): return "curl_global_init failed: \(Self.text(code))"
        case .handle: return "curl_easy_init failed"
        case .option(let name, let code): return "libcurl refused option \(name): \(Self.text(code))"
        case .transfer(let code, let detail):
            let text = detail.isEmpty ? Self.text(code) : detail
            return "\(text) (curl error \(code))"
        }
    }

    private static func text(_ code: UInt32) -> String {
        String(cString: curl_easy_strerror(CURLcode(rawValue: code)))
    }
}
