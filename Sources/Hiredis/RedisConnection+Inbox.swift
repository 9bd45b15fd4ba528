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
    static func parseMessage(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        var i = 0
        guard let count = bytes.first else { return .incomplete }
        guard count == UInt8(ascii: "*") else { return .other }
        guard bytes.count >= 4 else { return .incomplete }
        let elements = bytes[1]
        guard elements == UInt8(ascii: "3") || elements == UInt8(ascii: "4"), bytes[2] == 13, bytes[3] == 10 else { return .other }
        i = 4
        let isPattern = elements == UInt8(ascii: "4")
        var kind = 0..<0
        var channel = 0..<0
        var payload = 0..<0
        for element in 0..<(isPattern ? 4 : 3) {
            guard let range = bulk(bytes, &i) else { return i < 0 ? .other : .incomplete }
            switch element {
            case 0: kind = range
            case 1 where !isPattern, 2 where isPattern: channel = range
            case 2 where !isPattern, 3: payload = range
            default: break
            }
            if element == 0 && !Self.equals(bytes, kind, isPattern ? "pmessage" : "message")
                && (isPattern || !Self.equals(bytes, kind, "smessage"))
            {
                return .other
            }
        }
        return .message(channel: channel, payload: payload, length: i)
    }

    /// A bulk string at `i`, which moves past it; nil with `i` < 0 when it
    /// is not one, nil with `i` unchanged when it is not all there yet.
    private static func bulk(_ bytes: UnsafeRawBufferPointer, _ i: inout Int) -> Range<Int>? {
        var j = i
        guard j < bytes.count else { return nil }
        guard bytes[j] == UInt8(ascii: "$") else {
            i = -1
            return nil
        }
        j += 1
        var length = 0
        var digits = 0
        // At most 12 digits are read (an absurd length stops here): the
        // wrapping arithmetic cannot wrap, and a longer digit run is refused
        // below instead of overflowing (a trap on the subscriber thread).
        while j < bytes.count, digits < 12 {
            let digit = bytes[j] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            length = length &* 10 &+ Int(digit)
            digits &+= 1
            j &+= 1
        }
        guard j < bytes.count else { return nil }
        // `$-1` (null) and absurd lengths are left to hiredis.
        guard digits > 0, digits < 12, bytes[j] == 13 else {
            i = -1
            return nil
        }
        guard j + 1 < bytes.count else { return nil }
        guard bytes[j + 1] == 10 else {
            i = -1
            return nil
        }
        let first = j + 2
        guard first + length + 2 <= bytes.count else { return nil }
        guard bytes[first + length] == 13, bytes[first + length + 1] == 10 else {
            i = -1
            return nil
        }
        i = first + length + 2
        return first..<(first + length)
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
        range.count == text.utf8CodeUnitCount && memcmp(bytes.baseAddress! + range.lowerBound, text.utf8Start, range.count) == 0
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
        switch Inbox.parseMessage(unread) {
        case .message(let channel, let payload, let length):
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
