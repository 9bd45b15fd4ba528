/// A failure of the Redis connection (not an error reply, which is a value).
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: Sendable, Hashable {
            case io, eof, protocolError, outOfMemory, other, timeout, closed
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

        public var description: String {
            switch backing {
            case .io: return "I/O error"
            case .eof: return "connection closed by server"
            case .protocolError: return "protocol error"
            case .outOfMemory: return "out of memory"
            case .other: return "error"
            case .timeout: return "timed out"
            case .closed: return "connection closed"
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
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "redis \(code): \(message)" }
}
