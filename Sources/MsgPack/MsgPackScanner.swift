/// A structural pass over a MessagePack payload that runs before msgpack-c
/// sees it.
///
/// msgpack-c 4.0 allocates a container's element array as soon as it reads the
/// header, so a five-byte `dd 00 ff ff ff` would make it allocate 400 MB; it
/// also reports errors without a position. This scan checks every header
/// against the bytes that remain (an element needs at least one byte), limits
/// nesting, validates UTF-8 in `str` values, and names the byte offset of the
/// first problem. It allocates nothing and reads each header byte once.
///
/// It runs on every message busd receives, so the loop handles the one-byte
/// headers that make up most adapter traffic (fixint, fixstr, fixmap,
/// fixarray) inline and leaves the rest to ``scanSized(_:at:)``.
struct MsgPackScanner {
    var maxDepth: Int
    var validateUTF8: Bool

    /// Checks `bytes` holds exactly one well-formed value.
    func scan(_ bytes: UnsafeRawBufferPointer) throws(MsgPackError) {
        // Values still to read in each open container, innermost last; on
        // the stack, since the depth is bounded (no allocation per payload).
        let end = try withUnsafeTemporaryAllocation(of: Int.self, capacity: maxDepth + 1) {
            pending throws(MsgPackError) -> Int in
            try scanValue(bytes, pending: pending)
        }
        if end != bytes.count {
            throw MsgPackError(.trailingBytes, offset: end, "\(bytes.count - end) bytes after the value")
        }
    }

    /// Returns the offset just past the value that starts at byte 0.
    ///
    /// Offsets never exceed `bytes.count` and counts are checked against
    /// what remains before they are added, so the arithmetic below cannot
    /// overflow: it uses the wrapping operators, which drop the overflow
    /// checks (a third of this loop's instructions).
    private func scanValue(
        _ bytes: UnsafeRawBufferPointer,
        pending: UnsafeMutableBufferPointer<Int>
    ) throws(MsgPackError) -> Int {
        let count = bytes.count
        var offset = 0
        var depth = 0
        var remainingAtTop = 1
        while true {
            while remainingAtTop == 0 {
                guard depth > 0 else { return offset }
                depth &-= 1
                remainingAtTop = pending[depth]
            }
            remainingAtTop &-= 1
            guard offset < count else {
                throw MsgPackError(.truncated, offset: offset, "payload ends where a value should start")
            }
            let start = offset
            let b = bytes[start]
            let elements: Int
            if b < 0x80 || b >= 0xe0 {  // positive and negative fixint
                offset = start &+ 1
                continue
            } else if b >= 0xa0 && b < 0xc0 {  // fixstr
                let length = Int(b & 0x1f)
                try checkString(bytes, body: start &+ 1, length: length, start: start)
                offset = start &+ 1 &+ length
                continue
            } else if b < 0xa0 {  // fixmap (keys and values), fixarray
                elements = b < 0x90 ? Int(b & 0x0f) &<< 1 : Int(b & 0x0f)
                offset = start &+ 1
            } else {
                let sized = try scanSized(bytes, at: start)
                offset = sized.next
                guard let count = sized.elements else { continue }
                elements = count
            }
            // A container: every element needs at least one byte.
            if elements > count &- offset {
                throw MsgPackError(
                    .tooLarge,
                    offset: start,
                    "container announces \(elements) elements but only \(count - offset) bytes follow"
                )
            }
            if elements > 0 {
                if depth &+ 1 > maxDepth {
                    throw MsgPackError(.tooDeep, offset: start, "more than \(maxDepth) nested containers")
                }
                pending[depth] = remainingAtTop
                depth &+= 1
                remainingAtTop = elements
            }
        }
    }

    /// A string's body: present in full and, when asked, valid UTF-8.
    @inline(__always)
    private func checkString(_ bytes: UnsafeRawBufferPointer, body: Int, length: Int, start: Int) throws(MsgPackError) {
        try need(bytes, body, length, start)
        if validateUTF8 && !UTF8Check.isASCII(bytes, from: body, count: length) {
            try UTF8Check.validate(bytes, from: body, count: length)
        }
    }

    @inline(__always)
    private func need(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int, _ start: Int) throws(MsgPackError) {
        if count > bytes.count &- offset {
            throw MsgPackError(
                .truncated,
                offset: start,
                "value needs \(count) bytes after byte \(offset), \(bytes.count - offset) remain"
            )
        }
    }

    /// A value whose header is 0xc0...0xdf: nil, booleans, and the types with
    /// a fixed-width body or a length field. Returns the offset after the
    /// value, or for a container the offset after its header and its element
    /// count (maps count keys and values).
    @inline(never)
    private func scanSized(_ bytes: UnsafeRawBufferPointer, at start: Int) throws(MsgPackError) -> (
        next: Int, elements: Int?
    ) {
        let b = bytes[start]
        let body: Int  // fixed body size, for the types that have one
        switch b {
        case 0xc0, 0xc2, 0xc3: return (start + 1, nil)
        case 0xc1: throw MsgPackError(.invalidByte, offset: start, "0xc1 is not a MessagePack type")
        case 0xcc, 0xd0: body = 1
        case 0xcd, 0xd1, 0xd4: body = 2
        case 0xd5: body = 3
        case 0xca, 0xce, 0xd2: body = 4
        case 0xd6: body = 5
        case 0xcb, 0xcf, 0xd3: body = 8
        case 0xd7: body = 9
        case 0xd8: body = 17
        default: body = -1
        }
        if body >= 0 {
            try need(bytes, start + 1, body, start)
            return (start + 1 + body, nil)
        }
        // A length field of 1, 2 or 4 bytes, big-endian.
        let width: Int
        switch b {
        case 0xc4, 0xc7, 0xd9: width = 1
        case 0xc5, 0xc8, 0xda, 0xdc, 0xde: width = 2
        default: width = 4  // 0xc6, 0xc9, 0xdb, 0xdd, 0xdf
        }
        try need(bytes, start + 1, width, start)
        var length = 0
        for i in 1...width { length = (length &<< 8) | Int(bytes[start + i]) }
        let bodyStart = start + 1 + width
        switch b {
        case 0xc4, 0xc5, 0xc6:  // bin
            try need(bytes, bodyStart, length, start)
            return (bodyStart + length, nil)
        case 0xc7, 0xc8, 0xc9:  // ext: the type byte, then the data
            try need(bytes, bodyStart, length + 1, start)
            return (bodyStart + length + 1, nil)
        case 0xd9, 0xda, 0xdb:  // str
            try checkString(bytes, body: bodyStart, length: length, start: start)
            return (bodyStart + length, nil)
        case 0xdc, 0xdd:  // array
            return (bodyStart, length)
        default:  // 0xde, 0xdf: map
            return (bodyStart, length * 2)
        }
    }
}

/// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
/// Public for the broadcast byte decoder, which checks strings as it reads them.
public enum UTF8Check {
    /// The common case, checked inline: short ASCII strings (keys, events).
    ///
    /// Eight bytes at a time; the last 1-7 bytes are checked with one more
    /// eight-byte load that reaches past the string (or before it, at the
    /// end of the payload) with the bytes that are not the string's masked
    /// off, instead of a loop per byte: most strings in adapter messages are
    /// shorter than eight bytes.
    @inlinable @inline(__always)
    public static func isASCII(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> Bool {
        // In bounds (the caller checked `count` against the payload): no
        // overflow checks on the offsets.
        let high: UInt64 = 0x8080_8080_8080_8080
        var i = start
        let end = start &+ count
        while end &- i >= 8 {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & high != 0 { return false }
            i &+= 8
        }
        let rest = end &- i
        if rest == 0 { return true }
        // Little-endian: the byte at the lowest address is the lowest byte.
        if i &+ 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            return word & high & (UInt64.max &>> (64 &- 8 &* rest)) == 0
        }
        if end >= 8 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self))
            return word & high & (UInt64.max &<< (64 &- 8 &* rest)) == 0
        }
        while i < end {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// True when `count` bytes from `start` (in bounds) are valid UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> Bool {
        (try? validate(bytes, from: start, count: count)) != nil
    }

    static func validate(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) throws(MsgPackError) {
        var i = start
        let end = start + count
        // Most text is ASCII: skip it eight bytes at a time.
        while i + 8 <= end && bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
        }
        while i < end {
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let at = i
            guard let length = UTF8Validation.sequenceLength(lead: lead, available: end - at, byte: { bytes[at + $0] }) else {
                throw MsgPackError(.invalidUTF8, offset: at, "malformed UTF-8 sequence starting with 0x\(String(lead, radix: 16))")
            }
            i += length
        }
    }
}
