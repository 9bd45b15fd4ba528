internal import CMsgPack
internal import Glibc

/// A borrowed view of one decoded MessagePack value inside msgpack-c's arena.
///
/// Handed out by ``MsgPackReader/withObject(_:_:)`` and valid only inside that
/// call. Reading through it copies nothing until asked (``string``, ``bytes``,
/// ``value()``), which is what keeps the broadcast fast path cheap.
///
/// The accessors read `msgpack_object` through its byte layout so that they
/// can be inlined into callers (a C type cannot appear in inlinable code):
/// `type` at 0, the union at 8 (scalars; `size` at 8 and `ptr` at 16 for
/// str/bin/array/map; for ext `type` at 8, `size` at 12, `ptr` at 16), 24
/// bytes per object and 48 per map entry. ``MsgPackLayout/check()`` compares
/// these with the compiler's view of the C header when a reader is created.
///
/// The accessors the broadcast fast path calls per key are also
/// `@inline(__always)`: being inlinable was not enough, the optimizer left
/// them as calls from SocketIOCodec, ~600 instructions per broadcast for
/// accessors of a few instructions each.
public struct MsgPackObject {
    public enum Kind: Sendable, Hashable {
        case `nil`, bool, uint, int, float32, float64, string, binary, array, map, ext
    }

    @usableFromInline let pointer: UnsafeRawPointer
    @usableFromInline let base: UnsafeRawPointer

    @inlinable
    init(pointer: UnsafeRawPointer, base: UnsafeRawPointer) {
        self.pointer = pointer
        self.base = base
    }

    @inlinable @inline(__always) var typeCode: UInt32 { pointer.load(as: UInt32.self) }

    @inlinable @inline(__always)
    public var kind: Kind {
        switch typeCode {
        case 0x00: return .nil
        case 0x01: return .bool
        case 0x02: return .uint
        case 0x03: return .int
        case 0x0a: return .float32
        case 0x04: return .float64
        case 0x05: return .string
        case 0x06: return .array
        case 0x07: return .map
        case 0x08: return .binary
        default: return .ext
        }
    }

    @inlinable public var boolValue: Bool { pointer.load(fromByteOffset: 8, as: Bool.self) }
    /// For `.uint`.
    @inlinable public var uint64Value: UInt64 { pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
    /// For `.int`.
    @inlinable public var int64Value: Int64 { pointer.loadUnaligned(fromByteOffset: 8, as: Int64.self) }
    /// For `.float32` and `.float64` (msgpack-c widens float32).
    @inlinable public var doubleValue: Double { pointer.loadUnaligned(fromByteOffset: 8, as: Double.self) }

    /// Elements of an array, entries of a map, bytes of a string, bin or ext.
    @inlinable @inline(__always)
    public var count: Int {
        switch typeCode {
        case 0x05, 0x06, 0x07, 0x08: return Int(pointer.load(fromByteOffset: 8, as: UInt32.self))
        case 0x09: return Int(pointer.load(fromByteOffset: 12, as: UInt32.self))
        default: return 0
        }
    }

    @inlinable public var extType: Int8 { pointer.load(fromByteOffset: 8, as: Int8.self) }

    @inlinable var children: UnsafeRawPointer { pointer.load(fromByteOffset: 16, as: UnsafeRawPointer.self) }

    /// Element `index` of an array.
    @inlinable @inline(__always)
    public subscript(index: Int) -> MsgPackObject {
        precondition(typeCode == 0x06 && index >= 0 && index < count, "array index out of range")
        return MsgPackObject(pointer: children + index * 24, base: base)
    }

    /// Key of entry `index` of a map.
    @inlinable @inline(__always)
    public func key(at index: Int) -> MsgPackObject {
        precondition(typeCode == 0x07 && index >= 0 && index < count, "map index out of range")
        return MsgPackObject(pointer: children + index * 48, base: base)
    }

    /// Value of entry `index` of a map.
    @inlinable @inline(__always)
    public func value(at index: Int) -> MsgPackObject {
        precondition(typeCode == 0x07 && index >= 0 && index < count, "map index out of range")
        return MsgPackObject(pointer: children + index * 48 + 24, base: base)
    }

    @inlinable @inline(__always)
    var payload: UnsafeRawPointer? {
        switch typeCode {
        case 0x05, 0x08, 0x09: return pointer.load(fromByteOffset: 16, as: UnsafeRawPointer?.self)
        default: return nil
        }
    }

    /// True when an ext value was sent with a fixext header (`d4`...`d8`)
    /// rather than ext 8/16/32. msgpack-c does not keep the form; the byte
    /// before the type byte tells it, since the payload lies in the input.
    public var isFixExt: Bool {
        guard kind == .ext, let payload else { return false }
        let code: UInt8
        switch count {
        case 1: code = 0xd4
        case 2: code = 0xd5
        case 4: code = 0xd6
        case 8: code = 0xd7
        case 16: code = 0xd8
        default: return false
        }
        guard base.distance(to: payload) >= 2 else { return false }
        return payload.load(fromByteOffset: -2, as: UInt8.self) == code
    }

    /// Byte offset of a string, bin or ext payload in the decoded input (for
    /// error messages); -1 for other kinds.
    public var payloadOffset: Int {
        guard let payload else { return -1 }
        return base.distance(to: payload)
    }

    /// Lends the bytes of a string, bin or ext payload (empty for other kinds).
    @inlinable
    public func withBytes<R, E: Error>(_ body: (Span<UInt8>) throws(E) -> R) throws(E) -> R {
        let n = count
        guard let payload, n > 0 else {
            return try body(UnsafeBufferPointer<UInt8>(start: nil, count: 0).span)
        }
        let buffer = UnsafeBufferPointer(start: payload.assumingMemoryBound(to: UInt8.self), count: n)
        return try body(buffer.span)
    }

    /// True when this is a string with exactly these UTF-8 bytes.
    @inlinable @inline(__always)
    public func isString(_ literal: StaticString) -> Bool {
        guard typeCode == 0x05 else { return false }
        let n = count
        guard n == literal.utf8CodeUnitCount else { return false }
        guard n > 0, let payload else { return true }
        let bytes = payload.assumingMemoryBound(to: UInt8.self)
        let expected = literal.utf8Start
        for i in 0..<n where bytes[i] != expected[i] { return false }
        return true
    }

    /// True when both are strings (or both bin) with identical bytes.
    public func hasSameBytes(as other: MsgPackObject) -> Bool {
        guard kind == other.kind, count == other.count else { return false }
        guard let a = payload, let b = other.payload, count > 0 else { return true }
        return memcmp(a, b, count) == 0
    }

    /// The string value (UTF-8 was validated when the payload was read).
    public var string: String? {
        guard kind == .string else { return nil }
        return withBytes { span in
            span.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// A copy of a string, bin or ext payload.
    public var bytes: [UInt8] {
        withBytes { span in span.withUnsafeBufferPointer { Array($0) } }
    }

    /// A Swift-owned copy of the whole value.
    public func value() -> MsgPackValue {
        switch kind {
        case .nil: return .nil
        case .bool: return .bool(boolValue)
        case .uint: return .uint(uint64Value)
        case .int: return .int(int64Value)
        case .float32: return .float32(Float(doubleValue))
        case .float64: return .float64(doubleValue)
        case .string: return .string(string ?? "")
        case .binary: return .binary(bytes)
        case .ext: return .ext(type: extType, data: bytes)
        case .array:
            var elements: [MsgPackValue] = []
            elements.reserveCapacity(count)
            for i in 0..<count { elements.append(self[i].value()) }
            return .array(elements)
        case .map:
            var entries: [MsgPackMapEntry] = []
            entries.reserveCapacity(count)
            for i in 0..<count { entries.append(MsgPackMapEntry(key(at: i).value(), value(at: i).value())) }
            return .map(entries)
        }
    }
}

/// The C layout the inlinable accessors of ``MsgPackObject`` rely on.
enum MsgPackLayout {
    static let isAsExpected: Bool = {
        MemoryLayout<msgpack_object>.size == 24
            && MemoryLayout<msgpack_object>.offset(of: \.via) == 8
            && MemoryLayout<msgpack_object_kv>.size == 48
            && MemoryLayout<msgpack_object_kv>.offset(of: \.val) == 24
            && MemoryLayout<msgpack_object_str>.offset(of: \.ptr) == 8
            && MemoryLayout<msgpack_object_ext>.offset(of: \.size) == 4
            && MemoryLayout<msgpack_object_ext>.offset(of: \.ptr) == 8
            && MemoryLayout<msgpack_object_array>.offset(of: \.ptr) == 8
            && MemoryLayout<msgpack_object_map>.offset(of: \.ptr) == 8
            && MSGPACK_OBJECT_FLOAT32.rawValue == 0x0a && MSGPACK_OBJECT_EXT.rawValue == 0x09
    }()

    /// Stops the process when msgpack-c was built with another layout.
    static func check() {
        precondition(isAsExpected, "msgpack_object layout differs from the one MsgPackObject reads")
    }
}
