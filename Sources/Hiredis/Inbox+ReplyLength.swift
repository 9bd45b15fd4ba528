internal import Glibc

extension Inbox {
    enum ReplyLength: Equatable {
        case complete(Int)
        case incomplete
        /// Not RESP as busd knows it: hiredis's reader says what is wrong.
        case malformed
    }

    /// How many bytes the RESP2 reply at the front of `bytes` takes, so that
    /// only that reply goes to hiredis's reader and the messages after it
    /// stay on the in-place path (a reader fed a cut message would hold the
    /// stream until that message is whole).
    static func replyLength(_ bytes: UnsafeRawBufferPointer) -> ReplyLength {
        var i = 0
        var remaining = 1
        while remaining > 0 {
            guard i < bytes.count else { return .incomplete }
            let type = bytes[i]
            guard let lineEnd = lineEnd(bytes, from: i + 1) else {
                // A number line longer than 24 bytes is no number.
                if (type == UInt8(ascii: "$") || type == UInt8(ascii: "*")) && bytes.count - i > 24 { return .malformed }
                return .incomplete
            }
            remaining -= 1
            let next = lineEnd + 2
            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"):
                i = next
            case UInt8(ascii: "$"):
                guard let length = number(bytes, i + 1, lineEnd), length >= -1 else { return .malformed }
                i = next
                if length >= 0 {
                    guard length <= bytes.count - i - 2 else { return .incomplete }
                    i += length + 2
                }
            case UInt8(ascii: "*"):
                guard let count = number(bytes, i + 1, lineEnd), count >= -1, count < 1 << 32 else { return .malformed }
                i = next
                if count > 0 { remaining += count }
            default:
                return .malformed
            }
        }
        return .complete(i)
    }

    /// Index of the `\r` of the next `\r\n` at or after `start`.
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        var from = start
        while from < bytes.count {
            guard let found = memchr(base + from, 13, bytes.count - from) else { return nil }
            let index = base.distance(to: UnsafeRawPointer(found))
            guard index + 1 < bytes.count else { return nil }
            if bytes[index + 1] == 10 { return index }
            from = index + 1
        }
        return nil
    }

    /// A decimal of at most 18 digits, optionally negative, in `bytes[start..<end]`.
    private static func number(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var i = start
        let negative = i < end && bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < end, end - i <= 18 else { return nil }
        var value = 0
        while i < end {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
            i += 1
        }
        return negative ? -value : value
    }
}
