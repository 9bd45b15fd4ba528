#if canImport(Glibc)
    import Glibc
#endif

/// `host:port` to listen on: `127.0.0.1:9477`, `[::1]:9477`,
/// `localhost:9477`, `0.0.0.0:9477` (every interface: only on purpose).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(StatusServerError) {
        let trimmed = text.trimmingSpaces
        var host: Substring
        let portText: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]"), trimmed[close...].hasPrefix("]:") else {
                throw StatusServerError("'\(text)' is not host:port (IPv6 as [::1]:9477)")
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            portText = trimmed[trimmed.index(close, offsetBy: 2)...]
        } else {
            guard let colon = trimmed.lastIndex(of: ":"), !trimmed[..<colon].contains(":") else {
                throw StatusServerError("'\(text)' is not host:port, e.g. 127.0.0.1:9477")
            }
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
        }
        guard !host.isEmpty else { throw StatusServerError("'\(text)' names no host (127.0.0.1 keeps it private)") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw StatusServerError("'\(text)': port must be a number in 0-65535")
        }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True for 127.0.0.0/8, ::1 and localhost.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// A TCP socket for the first address `host` resolves to, and that
    /// address (valid until `body` returns): the server binds it, the client
    /// connects it.
    func withSocket<R>(passive: Bool, _ body: (Int32, addrinfo) throws(StatusServerError) -> R) throws(StatusServerError) -> R {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = (passive ? AI_PASSIVE : 0) | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw StatusServerError("cannot resolve \(self): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let info = first.pointee
        let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
        guard fd >= 0 else { throw StatusServerError("socket() failed: \(String(cString: strerror(errno)))") }
        return try body(fd, info)
    }

    /// A listening socket and its port.
    func bindListener() throws(StatusServerError) -> (Int32, Int) {
        try withSocket(passive: true) { (fd, info) throws(StatusServerError) in try bindAndListen(fd, info) }
    }

    private func bindAndListen(_ fd: Int32, _ info: addrinfo) throws(StatusServerError) -> (Int32, Int) {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard bind(fd, info.ai_addr, info.ai_addrlen) == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StatusServerError("cannot listen on \(self): \(reason)")
        }
        return (fd, Self.boundPort(fd) ?? port)
    }

    private static func boundPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer -> Int? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            default: nil
            }
        }
    }
}

public struct StatusServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    var trimmingSpaces: Substring {
        var text = self[...]
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}
