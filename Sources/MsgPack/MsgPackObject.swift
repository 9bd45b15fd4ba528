internal import CMsgPack
internal import Glibc

/// A borrowed view of one decoded MessagePack value inside msgpack-c's arena.
///
/// Handed out by ``MsgPackReader/withObject(_:_:)`` and valid only inside that
/// call. Reading through it copies nothing until asked (``string``, ``bytes``,
/// ``value()``), which is what keeps the broadcast fast path cheap.
public struct MsgPackObject {
    public enum Kind: Sendable, Hashable {
        case `nil`, bool, uint, int, float32, float64, string, binary, array, map, ext
    }

    // Raw pointers of stdlib type, so no C type appears in this public struct.
    private let pointer: UnsafeRawPointer
    private let base: UnsafeRawPointer

    init(pointer: UnsafeRawPointer, base: UnsafeRawPointer) {
        self.pointer = pointer
        self.base = base
    }

    private var object: msgpack_object {
        pointer.assumingMemoryBound(to: msgpack_object.self).pointee
    }

    public var kind: Kind {
        switch object.type {
        case MSGPACK_OBJECT_NIL: return .nil
        case MSGPACK_OBJECT_BOOLEAN: return .bool
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return .uint
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return .int
        case MSGPACK_OBJECT_FLOAT32: return .float32
        case MSGPACK_OBJECT_FLOAT64: return .float64
        case MSGPACK_OBJECT_STR: return .string
        case MSGPACK_OBJECT_ARRAY: return .array
        case MSGPACK_OBJECT_MAP: return .map
        case MSGPACK_OBJECT_BIN: return .binary
        default: return .ext
        }
    }

    public var boolValue: Bool { object.via.boolean }
    /// For `.uint`.
    public var uint64Value: UInt64 { object.via.u64 }
    /// For `.int`.
    public var int64Value: Int64 { object.via.i64 }
    /// For `.float32` and `.float64` (msgpack-c widens float32).
    public var doubleValue: Double { object.via.f64 }

    /// Elements of an array, entries of a map, bytes of a string, bin or ext.
    public var count: Int {
        let o = object
        switch o.type {
        case MSGPACK_OBJECT_ARRAY: return Int(o.via.array.size)
        case MSGPACK_OBJECT_MAP: return Int(o.via.map.size)
        case MSGPACK_OBJECT_STR: return Int(o.via.str.size)
        case MSGPACK_OBJECT_BIN: return Int(o.via.bin.size)
        case MSGPACK_OBJECT_EXT: return Int(o.via.ext.size)
        default: return 0
        }
    }

    public var extType: Int8 { object.via.ext.type }

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

    /// Element `index` of an array.
    public subscript(index: Int) -> MsgPackObject {
        precondition(kind == .array && index >= 0 && index < count, "array index out of range")
        return MsgPackObject(pointer: UnsafeRawPointer(object.via.array.ptr! + index), base: base)
    }

    /// Key of entry `index` of a map.
    public func key(at index: Int) -> MsgPackObject {
        precondition(kind == .map && index >= 0 && index < count, "map index out of range")
        let entry = object.via.map.ptr! + index
        return MsgPackObject(pointer: UnsafeRawPointer(entry).advanced(by: MemoryLayout<msgpack_object_kv>.offset(of: \.key)!), base: base)
    }

    /// Value of entry `index` of a map.
    public func value(at index: Int) -> MsgPackObject {
        precondition(kind == .map && index >= 0 && index < count, "map index out of range")
        let entry = object.via.map.ptr! + index
        return MsgPackObject(pointer: UnsafeRawPointer(entry).advanced(by: MemoryLayout<msgpack_object_kv>.offset(of: \.val)!), base: base)
    }

    private var payload: UnsafeRawPointer? {
        let o = object
        switch o.type {
        case MSGPACK_OBJECT_STR: return UnsafeRawPointer(o.via.str.ptr)
        case MSGPACK_OBJECT_BIN: return UnsafeRawPointer(o.via.bin.ptr)
        case MSGPACK_OBJECT_EXT: return UnsafeRawPointer(o.via.ext.ptr)
        default: return nil
        }
    }

    /// Byte offset of a string, bin or ext payload in the decoded input (for
    /// error messages); -1 for other kinds.
    public var payloadOffset: Int {
        guard let payload else { return -1 }
        return base.distance(to: payload)
    }

    /// Lends the bytes of a string, bin or ext payload (empty for other kinds).
    public func withBytes<R, E: Error>(_ body: (Span<UInt8>) throws(E) -> R) throws(E) -> R {
        let n = count
        guard let payload, n > 0 else {
            return try body(UnsafeBufferPointer<UInt8>(start: nil, count: 0).span)
        }
        let buffer = UnsafeBufferPointer(start: payload.assumingMemoryBound(to: UInt8.self), count: n)
        return try body(buffer.span)
    }

    /// True when this is a string with exactly these UTF-8 bytes.
    public func isString(_ literal: StaticString) -> Bool {
        guard kind == .string, count == literal.utf8CodeUnitCount, let payload else {
            return kind == .string && count == 0 && literal.utf8CodeUnitCount == 0
        }
        return memcmp(payload, literal.utf8Start, count) == 0
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
