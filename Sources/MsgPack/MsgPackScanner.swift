/// A structural pass over a MessagePack payload that runs before msgpack-c
/// sees it.
///
/// msgpack-c 4.0 allocates a container's element array as soon as it reads the
/// header, so a five-byte `dd 00 ff ff ff` would make it allocate 400 MB; it
/// also reports errors without a position. This scan checks every header
/// against the bytes that remain (an element needs at least one byte), limits
/// nesting, validates UTF-8 in `str` values, and names the byte offset of the
/// first problem. It allocates nothing and reads each header byte once.
struct MsgPackScanner {
    var maxDepth: Int
    var validateUTF8: Bool

    /// Checks `bytes` holds exactly one well-formed value.
    func scan(_ bytes: UnsafeRawBufferPointer) throws(MsgPackError) {
        let end = try scanValue(bytes, from: 0)
        if end != bytes.count {
            throw MsgPackError(.trailingBytes, offset: end, "\(bytes.count - end) bytes after the value")
        }
    }

    /// Returns the offset just past the value that starts at `start`.
    func scanValue(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(MsgPackError) -> Int {
        // Values still to read in each open container, innermost last; on
        // the stack, since the depth is bounded (no allocation per payload).
        let capacity = maxDepth + 1
        return try withUnsafeTemporaryAllocation(of: Int.self, capacity: capacity) { pending throws(MsgPackError) -> Int in
            try scanValue(bytes, from: start, pending: pending)
        }
    }

    private func scanValue(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        pending: UnsafeMutableBufferPointer<Int>
    ) throws(MsgPackError) -> Int {
        var offset = start
        var depth = 0
        var remainingAtTop = 1
        while true {
            if remainingAtTop == 0 {
                guard depth > 0 else { return offset }
                depth -= 1
                remainingAtTop = pending[depth]
                continue
            }
            remainingAtTop -= 1
            let header = try readHeader(bytes, at: offset)
            switch header.kind {
            case .scalar(let length):
                offset = header.bodyStart
                try need(bytes, offset, length, header.start)
                offset += length
            case .string(let length):
                offset = header.bodyStart
                try need(bytes, offset, length, header.start)
                if validateUTF8 && !UTF8Check.isASCII(bytes, from: offset, count: length) {
                    try UTF8Check.validate(bytes, from: offset, count: length)
                }
                offset += length
            case .container(let elements):
                offset = header.bodyStart
                if elements > bytes.count - offset {
                    throw MsgPackError(
                        .tooLarge,
                        offset: header.start,
                        "container announces \(elements) elements but only \(bytes.count - offset) bytes follow"
                    )
                }
                if elements > 0 {
                    if depth + 1 > maxDepth {
                        throw MsgPackError(.tooDeep, offset: header.start, "more than \(maxDepth) nested containers")
                    }
                    pending[depth] = remainingAtTop
                    depth += 1
                    remainingAtTop = elements
                }
            }
        }
    }

    private enum HeaderKind {
        /// A value whose body is `length` opaque bytes (numbers, bin, ext).
        case scalar(Int)
        case string(Int)
        /// An array or map; maps count keys and values separately.
        case container(Int)
    }

    private struct Header {
        var start: Int
        var bodyStart: Int
        var kind: HeaderKind
    }

    @inline(__always)
    private func need(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int, _ start: Int) throws(MsgPackError) {
        if count > bytes.count - offset {
            throw MsgPackError(
                .truncated,
                offset: start,
                "value needs \(count) bytes after byte \(offset), \(bytes.count - offset) remain"
            )
        }
    }

    private func bigEndian(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> Int {
        var v = 0
        for i in 0..<width { v = (v << 8) | Int(bytes[offset + i]) }
        return v
    }

    @inline(__always)
    private func readHeader(_ bytes: UnsafeRawBufferPointer, at start: Int) throws(MsgPackError) -> Header {
        guard start < bytes.count else {
            throw MsgPackError(.truncated, offset: start, "payload ends where a value should start")
        }
        let b = bytes[start]
        switch b {
        case 0x00...0x7f, 0xe0...0xff, 0xc0, 0xc2, 0xc3:
            return Header(start: start, bodyStart: start + 1, kind: .scalar(0))
        case 0x80...0x8f:
            return Header(start: start, bodyStart: start + 1, kind: .container(Int(b & 0x0f) * 2))
        case 0x90...0x9f:
            return Header(start: start, bodyStart: start + 1, kind: .container(Int(b & 0x0f)))
        case 0xa0...0xbf:
            return Header(start: start, bodyStart: start + 1, kind: .string(Int(b & 0x1f)))
        case 0xc1:
            throw MsgPackError(.invalidByte, offset: start, "0xc1 is not a MessagePack type")
        default:
            break
        }
        // Headers with a length or fixed-width body.
        let (lengthWidth, kind): (Int, UInt8) = {
            switch b {
            case 0xc4, 0xd9: return (1, b)
            case 0xc5, 0xda, 0xdc, 0xde: return (2, b)
            case 0xc6, 0xdb, 0xdd, 0xdf: return (4, b)
            case 0xc7: return (1, b)
            case 0xc8: return (2, b)
            case 0xc9: return (4, b)
            default: return (0, b)
            }
        }()
        switch kind {
        case 0xca: return Header(start: start, bodyStart: start + 1, kind: .scalar(4))
        case 0xcb: return Header(start: start, bodyStart: start + 1, kind: .scalar(8))
        case 0xcc, 0xd0: return Header(start: start, bodyStart: start + 1, kind: .scalar(1))
        case 0xcd, 0xd1: return Header(start: start, bodyStart: start + 1, kind: .scalar(2))
        case 0xce, 0xd2: return Header(start: start, bodyStart: start + 1, kind: .scalar(4))
        case 0xcf, 0xd3: return Header(start: start, bodyStart: start + 1, kind: .scalar(8))
        case 0xd4: return Header(start: start, bodyStart: start + 1, kind: .scalar(2))
        case 0xd5: return Header(start: start, bodyStart: start + 1, kind: .scalar(3))
        case 0xd6: return Header(start: start, bodyStart: start + 1, kind: .scalar(5))
        case 0xd7: return Header(start: start, bodyStart: start + 1, kind: .scalar(9))
        case 0xd8: return Header(start: start, bodyStart: start + 1, kind: .scalar(17))
        default: break
        }
        try need(bytes, start + 1, lengthWidth, start)
        let length = bigEndian(bytes, start + 1, lengthWidth)
        let body = start + 1 + lengthWidth
        switch kind {
        case 0xc4, 0xc5, 0xc6: return Header(start: start, bodyStart: body, kind: .scalar(length))
        case 0xc7, 0xc8, 0xc9: return Header(start: start, bodyStart: body, kind: .scalar(length + 1))
        case 0xd9, 0xda, 0xdb: return Header(start: start, bodyStart: body, kind: .string(length))
        case 0xdc, 0xdd: return Header(start: start, bodyStart: body, kind: .container(length))
        default: return Header(start: start, bodyStart: body, kind: .container(length * 2))  // 0xde, 0xdf
        }
    }
}

/// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
enum UTF8Check {
    /// The common case, checked inline: short ASCII strings (keys, events).
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> Bool {
        var i = start
        let end = start + count
        while i + 8 <= end {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < end {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
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
