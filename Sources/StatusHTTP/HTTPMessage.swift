/// The head of an HTTP/1.x request: all a probe endpoint needs.
public struct HTTPRequestHead: Sendable, Hashable {
    public var method: String
    /// The path without its query string.
    public var path: String

    /// Largest head accepted; probes and scrapers send a few hundred bytes.
    public static let maximumSize = 8192

    public init(method: String, path: String) {
        self.method = method
        self.path = path
    }

    public enum ParseResult: Sendable, Hashable {
        case complete(HTTPRequestHead)
        /// More bytes are needed.
        case incomplete
        case invalid(String)
    }

    /// Parses the head from the bytes received so far.
    public static func parse(_ bytes: [UInt8]) -> ParseResult {
        guard let end = headEnd(bytes) else {
            return bytes.count > maximumSize ? .invalid("request head larger than \(maximumSize) bytes") : .incomplete
        }
        guard let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")), lineEnd <= end else {
            return .invalid("no request line")
        }
        let parts = bytes[..<lineEnd].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].starts(with: Array("HTTP/1.".utf8)) else { return .invalid("malformed request line") }
        let target = String(decoding: parts[1], as: UTF8.self)
        guard target.hasPrefix("/") else { return .invalid("request target must be a path") }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        return .complete(HTTPRequestHead(method: String(decoding: parts[0], as: UTF8.self), path: path))
    }

    /// Index of the blank line ending the head.
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// A complete response; the connection closes after it.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static func text(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, body: body.hasSuffix("\n") ? body : body + "\n")
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// The bytes on the wire; `includeBody` is false for HEAD.
    public func encoded(includeBody: Bool = true) -> [UInt8] {
        let body = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }
}
