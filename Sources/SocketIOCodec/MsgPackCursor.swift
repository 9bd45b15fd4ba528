internal import MsgPack

/// Reads MessagePack headers one at a time straight from the payload's bytes,
/// for the broadcast byte decoder: no object tree, no allocation.
///
/// Every header is checked against the bytes that remain and every `str`
/// is checked to be UTF-8; anything malformed, cut off or too large reads
/// as nil, and the caller hands the payload to the tree decoder, which
/// names the problem. Integers take msgpack-c's kinds: a signed format
/// holding a value >= 0 is a `uint`, as it is in msgpack-c's tree.
struct MsgPackCursor {
    enum Token {
        case null
        case bool(Bool)
        case uint(UInt64)
        /// Always negative.
        case int(Int64)
        case float(Double)
        /// The body's offset and length in the payload.
        case string(Int, Int)
        case binary(Int, Int)
        case ext
        case array(Int)
        /// Pairs (a key and a value each).
        case map(Int)
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset == bytes.count }

    /// The bytes not read yet.
    var remaining: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[offset...]) }

    /// The bytes of a string or binary token.
    @inline(__always)
    func buffer(_ start: Int, _ count: Int) -> UnsafeBufferPointer<UInt8> {
        // In bounds: `next()` checked them. An empty payload has no base.
        UnsafeBufferPointer(start: bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + start }, count: count)
    }

    /// True when the string at `start` is exactly `literal`.
    @inline(__always)
    func equals(_ start: Int, _ count: Int, _ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for i in 0..<count where bytes[start &+ i] != expected[i] { return false }
        return true
    }

    /// The next eight bytes as a little-endian word, nil near the end: for
    /// matching a short `fixstr` key (header and bytes) in one compare.
    @inline(__always)
    func peekWord() -> UInt64? {
        guard bytes.count &- offset >= 8 else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Steps over `count` bytes ``peekWord()`` matched.
    @inline(__always)
    mutating func advance(_ count: Int) {
        offset &+= count
    }

    /// The next value's header (and, for scalars, strings and binaries, its
    /// body); nil for malformed bytes. Offsets stay within `bytes.count`
    /// and lengths are checked against what remains before they are added.
    @inline(__always)
    mutating func next() -> Token? {
        let count = bytes.count
        guard offset < count else { return nil }
        let b = bytes[offset]
        if b < 0x80 {
            offset &+= 1
            return .uint(UInt64(b))
        }
        if b >= 0xe0 {
            offset &+= 1
            return .int(Int64(Int8(bitPattern: b)))
        }
        if b >= 0xa0 && b < 0xc0 {
            return string(at: offset &+ 1, length: Int(b & 0x1f))
        }
        if b < 0x90 {
            let pairs = Int(b & 0x0f)
            offset &+= 1
            return pairs &* 2 <= count &- offset ? .map(pairs) : nil
        }
        if b < 0xa0 {
            let elements = Int(b & 0x0f)
            offset &+= 1
            return elements <= count &- offset ? .array(elements) : nil
        }
        return sized(b)
    }

    @inline(__always)
    private mutating func string(at body: Int, length: Int) -> Token? {
        guard length <= bytes.count &- body else { return nil }
        if !UTF8Check.isASCII(bytes, from: body, count: length)
            && !UTF8Check.isValid(bytes, from: body, count: length)
        {
            return nil
        }
        offset = body &+ length
        return .string(body, length)
    }

    /// A big-endian unsigned field of `width` bytes after the header byte.
    @inline(__always)
    private func field(_ width: Int) -> UInt64? {
        guard width < bytes.count &- offset else { return nil }
        var value: UInt64 = 0
        for i in 1...width { value = value &<< 8 | UInt64(bytes[offset &+ i]) }
        return value
    }

    /// Headers 0xc0...0xdf.
    @inline(never)
    private mutating func sized(_ b: UInt8) -> Token? {
        let remaining = bytes.count &- offset  // at least 1
        switch b {
        case 0xc0:
            offset &+= 1
            return .null
        case 0xc2, 0xc3:
            offset &+= 1
            return .bool(b == 0xc3)
        case 0xcc, 0xcd, 0xce, 0xcf:
            let width = 1 << Int(b &- 0xcc)
            guard let value = field(width) else { return nil }
            offset &+= 1 &+ width
            return .uint(value)
        case 0xd0, 0xd1, 0xd2, 0xd3:
            let width = 1 << Int(b &- 0xd0)
            guard let raw = field(width) else { return nil }
            offset &+= 1 &+ width
            // Sign-extend from `width` bytes.
            let shift = UInt64(64 &- 8 &* width)
            let value = Int64(bitPattern: raw &<< shift) &>> Int64(shift)
            return value >= 0 ? .uint(UInt64(value)) : .int(value)
        case 0xca:
            guard let raw = field(4) else { return nil }
            offset &+= 5
            return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw))))
        case 0xcb:
            guard let raw = field(8) else { return nil }
            offset &+= 9
            return .float(Double(bitPattern: raw))
        case 0xd9, 0xda, 0xdb:
            let width = 1 << Int(b &- 0xd9)
            guard let length = field(width), length <= UInt64(remaining) else { return nil }
            return string(at: offset &+ 1 &+ width, length: Int(length))
        case 0xc4, 0xc5, 0xc6:
            let width = 1 << Int(b &- 0xc4)
            guard let length = field(width), length <= UInt64(remaining) else { return nil }
            let body = offset &+ 1 &+ width
            guard Int(length) <= bytes.count &- body else { return nil }
            offset = body &+ Int(length)
            return .binary(body, Int(length))
        case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
            let size = 1 &+ (1 << Int(b &- 0xd4))  // type byte and data
            guard size < remaining else { return nil }
            offset &+= 1 &+ size
            return .ext
        case 0xc7, 0xc8, 0xc9:
            let width = 1 << Int(b &- 0xc7)
            guard let length = field(width), length <= UInt64(remaining) else { return nil }
            let body = offset &+ 1 &+ width
            guard Int(length) < bytes.count &- body else { return nil }  // and the type byte
            offset = body &+ 1 &+ Int(length)
            return .ext
        case 0xdc, 0xdd:
            let width = b == 0xdc ? 2 : 4
            guard let elements = field(width), elements <= UInt64(remaining) else { return nil }
            offset &+= 1 &+ width
            return Int(elements) <= bytes.count &- offset ? .array(Int(elements)) : nil
        case 0xde, 0xdf:
            let width = b == 0xde ? 2 : 4
            guard let pairs = field(width), pairs <= UInt64(remaining) else { return nil }
            offset &+= 1 &+ width
            return Int(pairs) &* 2 <= bytes.count &- offset ? .map(Int(pairs)) : nil
        default:  // 0xc1
            return nil
        }
    }

    /// Reads past the value `token` opened (a container's elements, to any
    /// depth up to `depthLeft`); false for malformed bytes or deeper nesting.
    mutating func skip(_ token: Token, depthLeft: Int) -> Bool {
        let elements: Int
        switch token {
        case .array(let n): elements = n
        case .map(let n): elements = n &* 2
        default: return true
        }
        guard depthLeft > 0 else { return false }
        for _ in 0..<elements {
            guard let inner = next(), skip(inner, depthLeft: depthLeft &- 1) else { return false }
        }
        return true
    }
}
