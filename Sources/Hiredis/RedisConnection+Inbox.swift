internal import CHiredis
internal import Glibc

/// The subscriber's read buffer. hiredis builds a reply object per message
/// (several mallocs, a copy of every string, and a memmove of its buffer per
/// kilobyte consumed); a pub/sub `message`/`pmessage` is instead parsed where
/// it lies here and handed over as pointers. Anything else (subscription
/// confirmations, PONG, errors) is fed to hiredis's reader alone, so hiredis
/// still parses every other reply and the messages after it stay here.
struct Inbox {
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var start = 0
    private var end = 0

    var isEmpty: Bool { start == end }
    var unread: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    mutating func consume(_ count: Int) {
        start += count
        if start == end { removeAll() }
    }

    mutating func removeAll() {
        start = 0
        end = 0
    }

    func deallocate() { storage.deallocate() }

    /// One `read` into the free space: 256 KiB (a few thousand messages per
    /// system call), grown when one message does not fit.
    mutating func read(from fd: Int32) throws(RedisError) {
        makeRoom()
        let n = Glibc.read(fd, storage.baseAddress! + end, storage.count - end)
        if n > 0 {
            end += n
        } else if n == 0 {
            throw RedisError(.eof, "Server closed the connection")
        } else if errno != EINTR {
            // As hiredis's redisBufferRead: EAGAIN here is the socket time-out.
            let code = errno
            throw RedisError(RedisError.Code(hiredis: 1, errno: code), String(cString: strerror(code)))
        }
    }

    /// ``read(from:)-(Int32)`` over TLS: one record (blocking), then every
    /// record OpenSSL has already decrypted, without touching the socket.
    mutating func read(from tls: TLSSession) throws(RedisError) {
        makeRoom()
        end += try tls.read(into: storage.baseAddress! + end, count: storage.count - end)
        while end < storage.count, tls.decryptedPending > 0 {
            end += try tls.read(into: storage.baseAddress! + end, count: storage.count - end)
        }
    }

    /// At least 16 KiB free after `end`.
    private mutating func makeRoom() {
        if storage.baseAddress == nil { storage = .allocate(byteCount: 256 << 10, alignment: 16) }
        if storage.count - end < 16 << 10 {
            let pending = end - start
            if pending + (16 << 10) > storage.count {
                let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 16)
                grown.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: pending)
                storage.deallocate()
                storage = grown
            } else {
                // Only the tail of a message cut by the last read moves.
                memmove(storage.baseAddress!, storage.baseAddress! + start, pending)
            }
            start = 0
            end = pending
        }
    }

    enum Parsed {
        case message(channel: Range<Int>, payload: Range<Int>, length: Int)
        case incomplete
        case other
    }

    /// `*3 $7 message $ch $payload`, `*3 $8 smessage $ch $payload` (sharded pub/sub)
    /// or `*4 $8 pmessage $pattern $ch $payload`
    /// at the front of `bytes`; `.other` as soon as it cannot be one.
    ///
    /// The header up to the kind is compared as one block, and the bulk
    /// strings read through a raw pointer: about a quarter of the
    /// instructions of an element-by-element parse. Every read is checked
    /// against `bytes.count` first (untrusted input).
    static func parseMessage(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .incomplete }
        guard base[0] == UInt8(ascii: "*") else { return .other }
        guard count > 1 else { return .incomplete }
        // "*4\r\n$8\r\npmessage\r\n", "*3\r\n$7\r\nmessage\r\n" or "*3\r\n$8\r\nsmessage\r\n".
        let header: StaticString
        let elements: Int
        switch base[1] {
        case UInt8(ascii: "4"):
            header = "*4\r\n$8\r\npmessage\r\n"
            elements = 3
        case UInt8(ascii: "3"):
            // The kind's length (byte 5) tells the two apart.
            let common: StaticString = "*3\r\n$"
            guard count > 5 else { return memcmp(base, common.utf8Start, count) == 0 ? .incomplete : .other }
            switch base[5] {
            case UInt8(ascii: "7"): header = "*3\r\n$7\r\nmessage\r\n"
            case UInt8(ascii: "8"): header = "*3\r\n$8\r\nsmessage\r\n"
            default: return .other
            }
            elements = 2
        default:
            return .other
        }
        let headerLength = header.utf8CodeUnitCount
        // A cut header that matches so far is incomplete; one that does not is another reply.
        guard memcmp(base, header.utf8Start, min(count, headerLength)) == 0 else { return .other }
        guard count >= headerLength else { return .incomplete }
        var i = headerLength
        var channel = 0..<0
        var payload = 0..<0
        // The last two bulk strings are the channel and the payload.
        for _ in 0..<elements {
            switch bulk(base, count, &i) {
            case .string(let range):
                channel = payload
                payload = range
            case .incomplete:
                return .incomplete
            case .other:
                return .other
            }
        }
        return .message(channel: channel, payload: payload, length: i)
    }

    private enum Bulk {
        case string(Range<Int>)
        case incomplete
        case other
    }

    /// A bulk string at `i`, which moves past it.
    @inline(__always)
    private static func bulk(_ base: UnsafePointer<UInt8>, _ count: Int, _ i: inout Int) -> Bulk {
        var j = i
        guard j < count else { return .incomplete }
        guard base[j] == UInt8(ascii: "$") else { return .other }
        j &+= 1
        var length = 0
        var digits = 0
        // At most 11 digits are taken (an absurd length stops here): the
        // wrapping arithmetic cannot wrap, and a longer digit run is refused
        // below instead of overflowing (a trap on the subscriber thread).
        while j < count, digits < 12 {
            let digit = base[j] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            length = length &* 10 &+ Int(digit)
            digits &+= 1
            j &+= 1
        }
        guard j < count else { return .incomplete }
        // `$-1` (null) and absurd lengths are left to hiredis.
        guard digits > 0, digits < 12, base[j] == 13 else { return .other }
        // Below 10^11 and `count` is a buffer's size: no sum here can overflow.
        guard j &+ 1 < count else { return .incomplete }
        guard base[j &+ 1] == 10 else { return .other }
        let first = j &+ 2
        guard first &+ length &+ 2 <= count else { return .incomplete }
        guard base[first &+ length] == 13, base[first &+ length &+ 1] == 10 else { return .other }
        i = first &+ length &+ 2
        return .string(first..<(first &+ length))
    }
}

extension RedisConnection {
    /// The next pub/sub message already read, handed to `body` as pointers
    /// valid only during the call (no copy, no reply object); any other
    /// reply is returned as ``BufferedMessage/other(_:)``. Never touches the
    /// socket: the subscriber's hot path.
    public func nextBufferedMessage(
        _ body: (_ channel: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Void
    ) throws(RedisError) -> BufferedMessage {
        let context = try open()
        // Replies hiredis holds come first (the inbox was fed after them).
        if Self.readerHasData(context) {
            let held = try hiredisBufferedMessage(context, body)
            guard case .none = held, !inbox.isEmpty else { return held }
            // The reader holds the start of a reply whose rest was read into
            // the inbox since: it goes to the reader too, in order.
            try feedInbox(context)
            return try hiredisBufferedMessage(context, body)
        }
        if inbox.isEmpty { return .none }
        let unread = inbox.unread
        let parsed = Inbox.parseMessage(unread)
        switch parsed {
        case .message(let channel, let payload, let length):
            // One message a call: callers count what the body saw per `.message`.
            body(UnsafeRawBufferPointer(rebasing: unread[channel]), UnsafeRawBufferPointer(rebasing: unread[payload]))
            inbox.consume(length)
            return .message
        case .incomplete:
            return .none
        case .other:
            switch Inbox.replyLength(unread) {
            case .complete(let length):
                // Only this reply goes to hiredis; what follows stays here.
                try feed(context, UnsafeRawBufferPointer(rebasing: unread.prefix(length)))
                inbox.consume(length)
                return try hiredisBufferedMessage(context, body)
            case .incomplete:
                return .none
            case .malformed:
                try feedInbox(context)
                return try hiredisBufferedMessage(context, body)
            }
        }
    }

    /// Hands everything in the inbox to hiredis's reader, before any call
    /// that reads replies through hiredis.
    func feedInbox(_ context: UnsafeMutablePointer<redisContext>) throws(RedisError) {
        guard !inbox.isEmpty else { return }
        try feed(context, inbox.unread)
        inbox.removeAll()
    }

    private func feed(_ context: UnsafeMutablePointer<redisContext>, _ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let rc = redisReaderFeed(context.pointee.reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        if rc != 0 { throw RedisError(.outOfMemory, "could not feed the hiredis reader") }
    }

    /// True when hiredis's reader has bytes or a reply in progress.
    private static func readerHasData(_ context: UnsafeMutablePointer<redisContext>) -> Bool {
        guard let reader = context.pointee.reader else { return false }
        return reader.pointee.pos < reader.pointee.len || reader.pointee.ridx >= 0
    }
}
