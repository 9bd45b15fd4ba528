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

        public init(status: Int, body: String) {
            self.status = status
            self.body = body
        }
    }

    public static func get(_ address: ListenAddress, path: String, timeout: Duration = .seconds(3))
        throws(StatusServerError)
        -> Response
    {
        let seconds = max(1, Int(timeout.components.seconds))
        let fd = try address.withSocket(passive: false) { (fd, info) throws(StatusServerError) in
            var limit = timeval(tv_sec: seconds, tv_usec: 0)
            // On Linux SO_SNDTIMEO also bounds connect().
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            guard connect(fd, info.ai_addr, info.ai_addrlen) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw StatusServerError("cannot connect to \(address): \(reason)")
            }
            return fd
        }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else {
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
