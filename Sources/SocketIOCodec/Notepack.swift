public import MsgPack

/// The two MessagePack dialects of notepack.io that Socket.IO's Redis
/// adapters and emitters use.
///
/// They differ only in how JavaScript-specific values are written:
///
/// | value | notepack 2.x | notepack 3.x |
/// |---|---|---|
/// | `undefined` | fixext 1 type 0 (`d4 00 00`) | nil in arrays; the key is dropped in maps |
/// | `ArrayBuffer` / TypedArray | ext 8/16/32 type 0 (never fixext) | bin |
/// | `Date` | fixext 8 type 0, int64 ms | timestamp ext -1 |
///
/// socket.io-redis 5.x–7.x and the emitters up to 4.x use notepack 2;
/// @socket.io/redis-adapter 8.x and @socket.io/redis-emitter 5.x use notepack 3.
public enum NotepackFlavor: String, Sendable, Hashable, CaseIterable {
    case notepack2
    case notepack3
}

/// Turns MessagePack into the values a Node.js process gets from
/// `notepack.decode`, and back.
public enum Notepack {
    /// What `notepack.decode` returns for a MessagePack value.
    ///
    /// Follows notepack's decoder: every number becomes a double; `bin` is a
    /// Buffer; ext 8/16/32 of type 0 an ArrayBuffer (a Buffer under notepack 3);
    /// `d4 00 xx` undefined; `d7 00` a Date in ms; timestamp ext -1 a Date under
    /// notepack 3; any other ext the two-element array `[type, Buffer]`. Map
    /// keys become property names as JavaScript's `obj[key] = v` does, and a
    /// `__proto__` key never becomes an own property.
    public static func decode(_ object: MsgPackObject, flavor: NotepackFlavor = .notepack3) throws(CodecError) -> JSValue {
        switch object.kind {
        case .nil: return .null
        case .bool: return .bool(object.boolValue)
        case .uint: return .number(Double(object.uint64Value))
        case .int: return .number(Double(object.int64Value))
        case .float32, .float64: return .number(object.doubleValue)
        case .string: return .string(object.string ?? "")
        case .binary: return .buffer(object.bytes)
        case .ext: return try decodeExtension(object, flavor: flavor)
        case .array:
            var elements: [JSValue] = []
            elements.reserveCapacity(object.count)
            for i in 0..<object.count { elements.append(try decode(object[i], flavor: flavor)) }
            return .array(elements)
        case .map:
            var result = JSObject()
            for i in 0..<object.count {
                let key = try propertyKey(object.key(at: i), flavor: flavor)
                let value = try decode(object.value(at: i), flavor: flavor)
                if key == "__proto__" { continue }
                result[key] = value
            }
            return .object(result)
        }
    }

    private static func decodeExtension(_ object: MsgPackObject, flavor: NotepackFlavor) throws(CodecError) -> JSValue {
        let type = object.extType
        let data = object.bytes
        // notepack reads type 0 by header form: fixext 1 is undefined,
        // fixext 8 a Date, ext 8/16/32 an ArrayBuffer.
        let fixed = object.isFixExt
        switch (type, data.count) {
        case (0, 1) where fixed:
            return .undefined
        case (0, 8) where fixed:
            let ms = data.withUnsafeBytes { Int64(bigEndian: $0.loadUnaligned(as: Int64.self)) }
            return .date(Double(ms))
        case (0, _) where !fixed:
            return flavor == .notepack2 ? .arrayBuffer(data) : .buffer(data)
        case (-1, _) where flavor == .notepack3:
            guard let ms = timestampMilliseconds(data) else {
                throw CodecError(.unsupportedValue, offset: object.payloadOffset, "timestamp ext of \(data.count) bytes")
            }
            return .date(ms)
        default:
            return .array([.number(Double(type)), .buffer(data)])
        }
    }

    /// Milliseconds of a MessagePack timestamp (32, 64 or 96-bit form).
    static func timestampMilliseconds(_ data: [UInt8]) -> Double? {
        func be(_ range: Range<Int>) -> UInt64 { data[range].reduce(0) { $0 << 8 | UInt64($1) } }
        switch data.count {
        case 4:
            return Double(be(0..<4)) * 1000
        case 8:
            let word = be(0..<8)
            let nanoseconds = word >> 34
            let seconds = word & 0x3_ffff_ffff
            return Double(seconds) * 1000 + Double(nanoseconds / 1_000_000)
        case 12:
            let nanoseconds = be(0..<4)
            let seconds = Int64(bitPattern: be(4..<12))
            return Double(seconds) * 1000 + Double(nanoseconds / 1_000_000)
        default:
            return nil
        }
    }

    /// The property name `obj[key]` uses for a decoded map key.
    private static func propertyKey(_ key: MsgPackObject, flavor: NotepackFlavor) throws(CodecError) -> String {
        switch key.kind {
        case .string: return key.string ?? ""
        case .nil: return "null"
        case .bool: return key.boolValue ? "true" : "false"
        case .uint, .int, .float32, .float64:
            guard case .number(let n) = try decode(key, flavor: flavor) else { return "" }
            return JSNumberFormatter.string(n)
        default:
            throw CodecError(.unsupportedValue, offset: key.payloadOffset, "map key of type \(key.kind)")
        }
    }
}
