/// A value as a Node.js process sees it after notepack.io or `JSON.parse`
/// decoded it: the model the Socket.IO packet encoder works on.
///
/// socket.io-parser encodes what notepack decoded, so reproducing a client's
/// frame byte for byte means reproducing the JavaScript view first: every
/// number is a double, `undefined` exists, binary is a Buffer or an
/// ArrayBuffer, timestamps are Dates, and object keys follow JavaScript's
/// property order (see ``JSObject``).
public enum JSValue: Sendable, Hashable {
    case undefined
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    /// A Node.js `Buffer` (msgpack `bin`; notepack 3 also decodes ext 0 to it).
    case buffer([UInt8])
    /// An `ArrayBuffer` (notepack 2 decodes ext type 0 to it).
    case arrayBuffer([UInt8])
    /// A `Date`, as milliseconds since the epoch (NaN for an invalid date).
    case date(Double)
    case array([JSValue])
    case object(JSObject)
}

/// One own enumerable property of a ``JSObject``.
public struct JSProperty: Sendable, Hashable {
    public var key: String
    public var value: JSValue

    public init(_ key: String, _ value: JSValue) {
        self.key = key
        self.value = value
    }
}

/// A plain JavaScript object: own enumerable properties in `Object.keys` order.
///
/// That order is not insertion order: keys that are array indices ("0" up to
/// "4294967294" in canonical form) come first in ascending numeric order, then
/// the other keys in insertion order. Assigning an existing key keeps its
/// place. `JSON.stringify`, notepack's encoder and socket.io-parser's binary
/// extraction all walk this order, so it is kept here at insertion time.
public struct JSObject: Sendable, Hashable {
    public private(set) var properties: [JSProperty]

    public init() {
        properties = []
    }

    /// Builds an object by assigning the pairs in order.
    public init(_ pairs: [(String, JSValue)]) {
        properties = []
        properties.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { properties.count }
    public var isEmpty: Bool { properties.isEmpty }

    /// Reads or assigns an own property (CreateDataProperty semantics: even
    /// "__proto__" becomes an own property, as with `JSON.parse`).
    public subscript(key: String) -> JSValue? {
        get {
            for property in properties where property.key == key { return property.value }
            return nil
        }
        set {
            if let index = properties.firstIndex(where: { $0.key == key }) {
                if let newValue {
                    properties[index].value = newValue
                } else {
                    properties.remove(at: index)
                }
                return
            }
            guard let newValue else { return }
            guard let arrayIndex = JSObject.arrayIndex(key) else {
                properties.append(JSProperty(key, newValue))
                return
            }
            // Insert among the leading index keys, in numeric order.
            var position = 0
            while position < properties.count, let other = JSObject.arrayIndex(properties[position].key),
                other < arrayIndex
            {
                position += 1
            }
            properties.insert(JSProperty(key, newValue), at: position)
        }
    }

    /// The numeric value of `key` when it is a canonical array index.
    public static func arrayIndex(_ key: String) -> UInt32? {
        let utf8 = key.utf8
        guard let first = utf8.first, first >= 0x30, first <= 0x39, utf8.count <= 10 else { return nil }
        if first == 0x30 && utf8.count > 1 { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + UInt64(byte - 0x30)
        }
        // 2^32 - 1 is not an array index.
        guard value < 4_294_967_295 else { return nil }
        return UInt32(value)
    }
}

extension JSValue {
    /// True for Buffer and ArrayBuffer: what socket.io-parser extracts as an attachment.
    public var isBinary: Bool {
        switch self {
        case .buffer, .arrayBuffer: return true
        default: return false
        }
    }

    /// True when the value contains binary anywhere (socket.io-parser's `hasBinary`).
    public var containsBinary: Bool {
        switch self {
        case .buffer, .arrayBuffer: return true
        case .array(let elements): return elements.contains { $0.containsBinary }
        case .object(let object): return object.properties.contains { $0.value.containsBinary }
        default: return false
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var arrayValue: [JSValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public subscript(key: String) -> JSValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}
