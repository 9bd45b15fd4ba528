import CCurl

/// What a finished transfer returned: the last response code (HTTP status,
/// or the SMTP server's last reply code) and the start of the response body.
public struct CurlResponse: Sendable {
    public let status: Int
    /// At most ``CurlEasy/responseLimit`` bytes; the rest is read and dropped.
    public let body: [UInt8]
}

/// One libcurl easy handle, and everything libcurl keeps pointers to while
/// it lives: the error buffer, the option lists, the upload bytes and the
/// response buffer.
///
/// Not Sendable: a libcurl handle must be used by one thread at a time.
/// Make one per transfer on the thread that performs it; transfers block,
/// so keep them off Swift's cooperative pool.
public final class CurlEasy {
    /// Response bytes kept: enough for an error message, small enough that a
    /// misbehaving server cannot grow the process.
    public static let responseLimit = 64 * 1024

    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var lists: [UInt32: CurlStringList] = [:]
    private var upload: [UInt8] = []
    private var uploadOffset = 0
    private var response: [UInt8] = []

    /// libcurl's version text, e.g. "libcurl/7.88.1 OpenSSL/3.0.19 ...".
    public static var libraryVersion: String { CurlGlobal.version }

    public init() throws(CurlError) {
        try CurlGlobal.ensure()
        guard let handle = curl_easy_init() else { throw .handle }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        // From here on `self` is complete; a failure below still runs deinit.
        try check(
            ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)),
            "CURLOPT_ERRORBUFFER"
        )
        // Without NOSIGNAL, name resolution time-outs use SIGALRM, which is
        // not safe in a multi-threaded process.
        try check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        // libcurl's default write callback prints the response to stdout.
        try check(ccurl_setopt_writefunction(handle, curlCollectResponse), "CURLOPT_WRITEFUNCTION")
        try check(
            ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque()),
            "CURLOPT_WRITEDATA"
        )
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        // `lists` are freed after the handle that pointed at them.
    }

    public func set(_ option: CurlOption.Long, _ value: Int) throws(CurlError) {
        try check(ccurl_setopt_long(handle, option.base.option, value), option.base.name)
    }

    public func set(_ option: CurlOption.Text, _ value: String) throws(CurlError) {
        try check(ccurl_setopt_string(handle, option.base.option, value), option.base.name)
    }

    public func set(_ option: CurlOption.List, _ values: [String]) throws(CurlError) {
        let list = try CurlStringList(values)
        try check(ccurl_setopt_slist(handle, option.base.option, list.head), option.base.name)
        // Only now may a list set before be freed: libcurl no longer points at it.
        lists[option.base.option.rawValue] = list
    }

    /// Makes the transfer an upload of `bytes` (an SMTP message), read by
    /// READFUNCTION from this handle.
    public func setUpload(_ bytes: [UInt8]) throws(CurlError) {
        upload = bytes
        uploadOffset = 0
        try check(ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1), "CURLOPT_UPLOAD")
        try check(ccurl_setopt_long(handle, CURLOPT_INFILESIZE, bytes.count), "CURLOPT_INFILESIZE")
        try check(ccurl_setopt_readfunction(handle, curlReadUpload), "CURLOPT_READFUNCTION")
        try check(
            ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque()),
            "CURLOPT_READDATA"
        )
    }

    /// Makes the transfer an HTTP POST of `bytes`; libcurl copies them
    /// (COPYPOSTFIELDS), so nothing here has to outlive the call.
    public func setPostBody(_ bytes: [UInt8]) throws(CurlError) {
        try check(ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count), "CURLOPT_POSTFIELDSIZE")
        let code = bytes.withUnsafeBytes { raw -> CURLcode in
            // An empty array may have no base address; any valid pointer will
            // do, since POSTFIELDSIZE is 0.
            guard let base = raw.baseAddress else { return ccurl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "") }
            return ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
        }
        try check(code, "CURLOPT_COPYPOSTFIELDS")
    }

    /// Runs the transfer to its end, blocking the calling thread (bounded by
    /// CURLOPT_TIMEOUT_MS when set).
    public func perform() throws(CurlError) -> CurlResponse {
        response.removeAll(keepingCapacity: true)
        uploadOffset = 0
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { throw .transfer(code, detail: String(cString: errorBuffer)) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return CurlResponse(status: status, body: response)
    }

    fileprivate func collect(_ bytes: UnsafeRawBufferPointer) {
        let room = Self.responseLimit - response.count
        if room > 0 { response.append(contentsOf: bytes.prefix(room)) }
    }

    fileprivate func fillUpload(_ destination: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(destination.count, upload.count - uploadOffset)
        guard count > 0 else { return 0 }
        upload.withUnsafeBytes { source in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[uploadOffset..<uploadOffset + count]))
        }
        uploadOffset += count
        return count
    }

    private func check(_ code: CURLcode, _ name: String) throws(CurlError) {
        guard code == CURLE_OK else { throw .option(name, code) }
    }
}

// C callbacks cannot capture: the handle arrives through the user-data
// pointer, unretained, which is safe because the handle outlives its transfers.

private func curlCollectResponse(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ user: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let user else { return 0 }
    let easy = Unmanaged<CurlEasy>.fromOpaque(user).takeUnretainedValue()
    easy.collect(UnsafeRawBufferPointer(start: data, count: size * count))
    // Claiming every byte, even the ones dropped, lets the transfer finish.
    return size * count
}

private func curlReadUpload(
    _ buffer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ user: UnsafeMutableRawPointer?
) -> Int {
    guard let buffer, let user else { return 0 }
    let easy = Unmanaged<CurlEasy>.fromOpaque(user).takeUnretainedValue()
    return easy.fillUpload(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
}
