internal import CHiredis
internal import Glibc

/// One blocking hiredis connection; owns its `redisContext`.
///
/// hiredis contexts are single-threaded, so this class is not `Sendable`:
/// give each connection to one thread (busd runs each on its own thread,
/// never on the cooperative pool). Commands are sent with the binary-safe
/// `*Argv` functions; replies are copied into ``RedisReply`` and freed.
///
/// With TLS (``RedisTLS``) hiredis still formats commands and parses
/// replies, but never touches the socket: every byte goes through the
/// connection's ``TLSSession`` (RedisConnection+TLS.swift).
public final class RedisConnection {
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): return "\(host):\(port)"
            case .unix(let path): return "unix:\(path)"
            }
        }
    }

    public let endpoint: Endpoint
    private var context: UnsafeMutablePointer<redisContext>?
    /// Bytes ``readAvailable()`` read that hiredis has not been fed (see
    /// RedisConnection+Inbox.swift): pub/sub messages are parsed in place.
    /// (One thread uses a connection at a time; the dynamic exclusivity
    /// check cost ~75 instructions per message.)
    @exclusivity(unchecked) var inbox = Inbox()
    /// The transport when the connection speaks TLS; nil: hiredis's own socket I/O.
    var tls: TLSSession?

    /// Connects, waiting at most `timeout`, and with `tls` handshakes (each
    /// read and write of the handshake waits at most `timeout` too).
    public init(endpoint: Endpoint, timeout: Duration = .seconds(2), tls: RedisTLS? = nil) throws(RedisError) {
        self.endpoint = endpoint
        let tv = Self.timeval(timeout)
        let context: UnsafeMutablePointer<redisContext>?
        switch endpoint {
        case .tcp(let host, let port):
            context = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path):
            context = redisConnectUnixWithTimeout(path, tv)
        }
        guard let context else {
            throw RedisError(.outOfMemory, "could not allocate a hiredis context for \(endpoint)")
        }
        if CHiredis_err(context) != 0 {
            let error = Self.error(of: context, errno: errno)
            redisFree(context)
            throw RedisError(error.code, "connect to \(endpoint): \(error.message)")
        }
        self.context = context
        try setTimeout(timeout)
        if let tls { try startTLS(tls, context, timeout: timeout) }
    }

    deinit {
        tls = nil
        if let context { redisFree(context) }
        inbox.deallocate()
    }

    /// Closes the connection now (also done on deinit).
    public func close() {
        tls = nil
        if let context { redisFree(context) }
        context = nil
        inbox.removeAll()
    }

    public var isOpen: Bool { context != nil }

    /// Read and write time-out of every later call (SO_RCVTIMEO/SO_SNDTIMEO).
    public func setTimeout(_ timeout: Duration) throws(RedisError) {
        let context = try open()
        if redisSetTimeout(context, Self.timeval(timeout)) != 0 {
            throw Self.error(of: context, errno: errno)
        }
    }

    /// Sends one command and waits for its reply; an error reply is thrown.
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        try append(arguments)
        return try readReply()
    }

    /// Queues a command in the output buffer without waiting (pipelining);
    /// the next ``readReply()`` flushes the buffer.
    public func append(_ arguments: [[UInt8]]) throws(RedisError) {
        let context = try open()
        // One contiguous copy of all arguments; hiredis copies them again into
        // its output buffer during the call, so nothing outlives it.
        var storage: [UInt8] = []
        var lengths: [Int] = []
        storage.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            storage.append(contentsOf: argument)
            lengths.append(argument.count)
        }
        storage.append(0)  // so even all-empty arguments have a valid base address
        let rc: Int32 = storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(arguments.count)
            var offset = 0
            for length in lengths {
                pointers.append(UnsafePointer(base + offset))
                offset += length
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisAppendCommandArgv(context, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
        }
        if rc != 0 { throw Self.error(of: context, errno: errno) }
    }

    public func append(_ arguments: [String]) throws(RedisError) {
        try append(arguments.map { Array($0.utf8) })
    }

    /// Sends everything queued and reads the next reply; an error reply
    /// (or one nested in an array) is thrown, and the connection stays usable.
    public func readReply() throws(RedisError) -> RedisReply {
        let context = try open()
        if let tls { return try readReply(context, over: tls) }
        try feedInbox(context)
        var reply: UnsafeMutablePointer<redisReply>?
        if CHiredis_getReply(context, &reply) != 0 {
            throw Self.error(of: context, errno: errno)
        }
        guard let reply else { throw Self.error(of: context, errno: errno) }
        defer { freeReplyObject(reply) }
        return try Self.copy(reply)
    }

    // MARK: Non-blocking use (pub/sub loops)

    /// Waits until the socket has data to read, at most `timeout`; true when it has.
    public func waitReadable(timeout: Duration) throws(RedisError) -> Bool {
        let context = try open()
        if let tls, tls.hasBuffered { return true }
        var pfd = pollfd(fd: CHiredis_fd(context), events: Int16(POLLIN), revents: 0)
        let ms = Int32(
            clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        )
        let rc = poll(&pfd, 1, ms)
        if rc < 0 && errno != EINTR { throw RedisError(.io, "poll: errno \(errno)") }
        return rc > 0
    }

    /// Reads what the socket has (one read call, up to the inbox's free space).
    public func readAvailable() throws(RedisError) {
        let context = try open()
        if let tls { return try inbox.read(from: tls) }
        try inbox.read(from: CHiredis_fd(context))
    }

    /// The next complete reply already read, or nil (never touches the socket).
    public func bufferedReply() throws(RedisError) -> RedisReply? {
        let context = try open()
        try feedInbox(context)
        var reply: UnsafeMutablePointer<redisReply>?
        if CHiredis_getBufferedReply(context, &reply) != 0 { throw Self.error(of: context, errno: errno) }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return try Self.copy(reply)
    }

    /// What ``nextBufferedMessage(_:)`` found.
    public enum BufferedMessage: Sendable, Hashable {
        /// A pub/sub message, handed to the body.
        case message
        /// Any other reply (subscription confirmations, PONG); an error
        /// reply is thrown instead.
        case other(RedisReply)
        /// Nothing complete is buffered.
        case none
    }

    /// The hiredis path of ``nextBufferedMessage(_:)``: replies hiredis was
    /// fed (anything but a pub/sub message, or what came before the inbox).
    func hiredisBufferedMessage(
        _ context: UnsafeMutablePointer<redisContext>,
        _ body: (_ channel: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Void
    ) throws(RedisError) -> BufferedMessage {
        var reply: UnsafeMutablePointer<redisReply>?
        if CHiredis_getBufferedReply(context, &reply) != 0 { throw Self.error(of: context, errno: errno) }
        guard let reply else { return .none }
        defer { freeReplyObject(reply) }
        let r = reply.pointee
        if r.type == REDIS_REPLY_ARRAY, r.elements == 3 || r.elements == 4, let kind = r.element[0]?.pointee,
            kind.type == REDIS_REPLY_STRING,
            Self.equals(kind, r.elements == 4 ? "pmessage" : "message") || (r.elements == 3 && Self.equals(kind, "smessage")),
            let channelReply = r.element[r.elements - 2]?.pointee, channelReply.type == REDIS_REPLY_STRING,
            let payloadReply = r.element[r.elements - 1]?.pointee, payloadReply.type == REDIS_REPLY_STRING
        {
            body(Self.raw(channelReply), Self.raw(payloadReply))
            return .message
        }
        return .other(try Self.copy(reply))
    }

    private static func raw(_ reply: redisReply) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: reply.str, count: reply.str == nil ? 0 : reply.len)
    }

    private static func equals(_ reply: redisReply, _ text: StaticString) -> Bool {
        guard reply.len == text.utf8CodeUnitCount, let str = reply.str else { return false }
        return memcmp(str, text.utf8Start, reply.len) == 0
    }

    /// Writes everything queued by ``append(_:)-([[UInt8]])`` (blocking until sent).
    public func flush() throws(RedisError) {
        let context = try open()
        if let tls { return try flush(context, over: tls) }
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != 0 { throw Self.error(of: context, errno: errno) }
        }
    }

    /// Sends several commands in one write and returns their replies in
    /// order. Every reply is read, so the connection stays in step; then the
    /// first error reply, if any, is thrown (naming which command it answered).
    @discardableResult
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        try pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    /// ``pipeline(_:)-([[String]])`` with binary-safe arguments.
    @discardableResult
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        for command in commands { try append(command) }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        var firstError: RedisError?
        for (index, command) in commands.enumerated() {
            do {
                replies.append(try readReply())
            } catch  where error.code == .reply {
                let name = command.first.map { String(decoding: $0.prefix(16), as: UTF8.self) } ?? "?"
                if firstError == nil {
                    firstError = error.during("\(name) (command \(index + 1) of \(commands.count))")
                }
                replies.append(.null)
            }
        }
        if let firstError { throw firstError }
        return replies
    }

    /// The socket, for polling readiness.
    public var fileDescriptor: Int32 {
        context.map { CHiredis_fd($0) } ?? -1
    }

    // MARK: Internals

    func open() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        guard let context else { throw RedisError(.closed, "the connection to \(endpoint) is closed") }
        return context
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    static func error(of context: UnsafeMutablePointer<redisContext>, errno: Int32) -> RedisError {
        let message = String(cString: CHiredis_errstr(context))
        return RedisError(
            RedisError.Code(hiredis: CHiredis_err(context), errno: errno),
            message.isEmpty ? "unknown" : message
        )
    }

    static func copy(_ reply: UnsafeMutablePointer<redisReply>) throws(RedisError) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(r.str, r.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            throw RedisError(.reply, String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(r.integer)
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(r.elements))
            for i in 0..<Int(r.elements) {
                if let element = r.element[i] { elements.append(try copy(element)) } else { elements.append(.null) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }
}
