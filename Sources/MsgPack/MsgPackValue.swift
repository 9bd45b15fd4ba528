/// A MessagePack value, owned by Swift: every byte has been copied out of the
/// C decoder's memory, so values outlive the input and cross threads freely.
///
/// The cases mirror the MessagePack type system, not any language's view of it:
/// signed and unsigned integers stay apart, and `float32` is kept distinct so a
/// value can be inspected exactly as it was sent.
public enum MsgPackValue: Sendable, Hashable {
    case `nil`
    case bool(Bool)
    /// A negative integer (or a non-negative one sent in a signed encoding).
    case int(Int64)
    case uint(UInt64)
    case float32(Float)
    case float64(Double)
    case string(String)
    case binary([UInt8])
    case array([MsgPackValue])
    /// Entries in wire order; keys may be any value and may repeat.
    case map([MsgPackMapEntry])
    case ext(type: Int8, data: [UInt8])
}

/// One key/value pair of a MessagePack map.
public struct MsgPackMapEntry: Sendable, Hashable {
    public var key: MsgPackValue
    public var value: MsgPackValue

    public init(_ key: MsgPackValue, _ value: MsgPackValue) {
        self.key = key
        self.value = value
    }
}

extension MsgPackValue {
    /// The value under a string key of a map (the first one when keys repeat).
    public subscript(key: String) -> MsgPackValue? {
        guard case .map(let entries) = self else { return nil }
        for entry in entries where entry.key == .string(key) { return entry.value }
        return nil
    }

    /// The integer value, when the value is an integer that fits `Int64`.
    public var integerValue: Int64? {
        switch self {
        case .int(let v): return v
        case .uint(let v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [MsgPackValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
