import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A GET for `busctl status` and tests: connects, sends one request, reads
/// the response to the end (the server closes after it).
public enum StatusClient {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public static func get(_ address: ListenAddress, path: String, timeout: Duration = .seconds(3)) throws(StatusServerError)
        -> Response
    {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw StatusServerError("cannot resolve \(address): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw StatusServerError("socket() failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let seconds = max(1, Int(timeout.components.seconds))
        var limit = timeval(tv_sec: seconds, tv_usec: 0)
        // On Linux SO_SNDTIMEO also bounds connect().
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw StatusServerError("cannot connect to \(address): \(String(cString: strerror(errno)))")
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            throw StatusServerError("cannot send to \(address): \(String(cString: strerror(errno)))")
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw StatusServerError("no answer from \(address) within \(seconds)s") }
            if n == 0 { break }
            received += chunk[0..<n]
        }
        return try parse(received, from: address)
    }

    static func parse(_ bytes: [UInt8], from address: ListenAddress) throws(StatusServerError) -> Response {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n"),
            let statusText = text[..<headEnd.lowerBound].split(separator: " ").dropFirst().first,
            let status = Int(statusText)
        else {
            throw StatusServerError("\(address) did not answer with HTTP")
        }
        return Response(status: status, body: String(text[headEnd.upperBound...]))
    }
}
