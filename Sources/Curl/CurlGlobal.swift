import CCurl

/// `curl_global_init`, exactly once per process.
///
/// libcurl requires it before any handle is made, and it is not thread-safe
/// itself; a `static let` is initialised once, under a lock, by the Swift
/// runtime, so every handle can call ``ensure()`` from any thread.
enum CurlGlobal {
    private static let result: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    static func ensure() throws(CurlError) {
        let code = result
        guard code == CURLE_OK else { throw .globalInit(code) }
    }

    /// libcurl's version text, e.g. "libcurl/7.88.1 OpenSSL/3.0.19 ...".
    static var version: String { String(cString: curl_version()) }
}
