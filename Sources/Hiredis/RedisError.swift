/// A failure of a Redis command: the connection failed, or the server
/// answered with an error reply (code ``Code/reply``).
///
/// Error replies are errors by construction: ``RedisReply`` has no error
/// case, so no caller can read one as an empty result.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: Sendable, Hashable {
            case io, eof, protocolError, outOfMemory, other, timeout, closed, reply, tls
        }
        fileprivate let backing: Backing

        /// A socket error (connect refused, reset, ...).
        public static let io = Code(backing: .io)
        /// The server closed the connection.
        public static let eof = Code(backing: .eof)
        /// The server sent something that is not RESP.
        public static let protocolError = Code(backing: .protocolError)
        public static let outOfMemory = Code(backing: .outOfMemory)
        public static let other = Code(backing: .other)
        /// A read or write took longer than the connection's time-out.
        public static let timeout = Code(backing: .timeout)
        /// The connection was closed by this side.
        public static let closed = Code(backing: .closed)
        /// The server answered with an error reply (NOAUTH, WRONGPASS, OOM,
        /// READONLY, ...); ``RedisError/message`` is the reply's text.
        public static let reply = Code(backing: .reply)
        /// TLS failed: the handshake, the server's certificate (verification),
        /// a client certificate the server wants, or a TLS-level read/write error.
        public static let tls = Code(backing: .tls)

        public var description: String {
            switch backing {
            case .io: return "I/O error"
            case .eof: return "connection closed by server"
            case .protocolError: return "protocol error"
            case .outOfMemory: return "out of memory"
            case .other: return "error"
            case .timeout: return "timed out"
            case .closed: return "connection closed"
            case .reply: return "error reply"
            case .tls: return "TLS error"
            }
        }

        fileprivate init(backing: Backing) { self.backing = backing }

        /// Maps hiredis's `REDIS_ERR_*` (and errno for I/O errors).
        init(hiredis err: Int32, errno: Int32) {
            switch err {
            case 1:  // REDIS_ERR_IO
                backing = (errno == 11 /* EAGAIN */ || errno == 110 /* ETIMEDOUT */) ? .timeout : .io
            case 3: backing = .eof
            case 4: backing = .protocolError
            case 5: backing = .outOfMemory
            default: backing = .other
            }
        }

    }

    public let code: Code
    /// What failed; for an error reply, the reply's text as the server sent it.
    public let message: String
    /// What was being done (e.g. "AUTH at redis://..."), shown before the message.
    public let context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }

    /// The same error, saying what was being done.
    public func during(_ context: String) -> RedisError {
        RedisError(code, message, context: self.context.map { "\(context): \($0)" } ?? context)
    }

    /// An error reply's first word (`NOAUTH`, `WRONGPASS`, `OOM`, `ERR`, ...); nil for other failures.
    public var replyPrefix: Substring? {
        guard code == .reply else { return nil }
        return message.prefix { $0 != " " }
    }

    /// Redis refused the credentials, or wants some and got none.
    public var isAuthenticationFailure: Bool {
        guard let prefix = replyPrefix else { return false }
        if prefix == "NOAUTH" || prefix == "WRONGPASS" { return true }
        // Redis before 6 and a password sent to a server without one.
        return prefix == "ERR"
            && (message.contains("invalid password") || message.contains("without any password configured"))
    }

    /// Redis is at its maxmemory and refuses writes (`OOM` error reply).
    public var isServerOutOfMemory: Bool { replyPrefix == "OOM" }

    public var description: String { "redis \(code): \(context.map { "\($0): " } ?? "")\(message)" }
}
