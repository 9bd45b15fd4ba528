public import SocketIOCodec

/// JSON text as Node.js's `JSON.stringify` writes it, and back.
public enum JSONText {
    /// The JSON of `value`; empty for `undefined` (JSON.stringify gives no text).
    public static func bytes(_ value: JSValue) -> [UInt8] {
        var output: [UInt8] = []
        var stringifier = JSONStringifier(binary: .nodeJSON)
        stringifier.append(value, to: &output)
        return output
    }

    /// Parses JSON; an empty text is `undefined`.
    public static func value(_ bytes: [UInt8]) throws(CodecError) -> JSValue {
        if bytes.isEmpty { return .undefined }
        return try JSONParser().parse(bytes)
    }

    static func rooms(_ rooms: [Room]) -> JSValue { .array(rooms.map(\.jsValue)) }

    /// Rooms of a JSON array (strings and numbers); nil when it is anything else.
    static func rooms(_ value: JSValue?) -> [Room]? {
        guard let value else { return [] }
        guard let array = value.arrayValue else { return nil }
        var rooms: [Room] = []
        for element in array {
            switch element {
            case .string(let s): rooms.append(.name(s))
            case .number(let n): rooms.append(.number(n))
            default: return nil
            }
        }
        return rooms
    }
}
