/// JSON straight from msgpack bytes, in one pass: the same rules as
/// ``FastJSON`` (which reads msgpack-c's tree), so for every value both
/// accept they write the same bytes; tests and the codec fuzz target hold
/// them equal. False means "not sure": the caller falls back.
enum ByteJSON {
    /// Keys of one map that are remembered to find a repeated one (FastJSON
    /// refuses bigger maps too).
    static let maximumKeys = 32
    /// Ints of key scratch per nesting level: a start and a length per key.
    static let scratchPerLevel = 2 * maximumKeys

    /// Writes the value `token` opened. `keys` holds `scratchPerLevel` Ints
    /// for this level and each of the `depthLeft` levels below it.
    static func write(
        _ token: MsgPackCursor.Token,
        from cursor: inout MsgPackCursor,
        to out: inout ByteWriter,
        attachments: inout [[UInt8]],
        keys: UnsafeMutablePointer<Int>,
        depthLeft: Int
    ) -> Bool {
        switch token {
        case .null:
            append("null", to: &out)
        case .bool(let value):
            append(value ? "true" : "false", to: &out)
        case .uint(let v):
            if v < 1 << 53 {
                AckIdInjector.appendDecimal(v, to: &out)
            } else {
                JSNumberFormatter.appendJSONNumber(Double(v), to: &out)
            }
        case .int(let v):
            if v > -(1 << 53) && v < 0 {
                out.append(UInt8(ascii: "-"))
                AckIdInjector.appendDecimal(UInt64(-v), to: &out)
            } else {
                JSNumberFormatter.appendJSONNumber(Double(v), to: &out)
            }
        case .float(let v):
            JSNumberFormatter.appendJSONNumber(v, to: &out)
        case .string(let start, let count):
            JSONQuoting.appendQuoted(cursor.buffer(start, count), to: &out)
        case .binary(let start, let count):
            append(#"{"_placeholder":true,"num":"#, to: &out)
            AckIdInjector.appendDecimal(UInt64(attachments.count), to: &out)
            out.append(UInt8(ascii: "}"))
            attachments.append(Array(cursor.buffer(start, count)))
        case .ext:
            return false
        case .array(let count):
            guard depthLeft > 0 else { return false }
            out.append(UInt8(ascii: "["))
            for i in 0..<count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                guard let element = cursor.next(),
                    write(
                        element,
                        from: &cursor,
                        to: &out,
                        attachments: &attachments,
                        keys: keys + scratchPerLevel,
                        depthLeft: depthLeft &- 1
                    )
                else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .map(let count):
            guard depthLeft > 0, count <= maximumKeys else { return false }
            out.append(UInt8(ascii: "{"))
            for i in 0..<count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                guard case .string(let start, let length)? = cursor.next(),
                    isPlainKey(start, length, in: cursor, earlier: keys, count: i)
                else { return false }
                keys[2 &* i] = start
                keys[2 &* i &+ 1] = length
                JSONQuoting.appendQuoted(cursor.buffer(start, length), to: &out)
                out.append(UInt8(ascii: ":"))
                guard let value = cursor.next(),
                    write(
                        value,
                        from: &cursor,
                        to: &out,
                        attachments: &attachments,
                        keys: keys + scratchPerLevel,
                        depthLeft: depthLeft &- 1
                    )
                else { return false }
            }
            out.append(UInt8(ascii: "}"))
        }
        return true
    }

    /// A key that becomes an own property in insertion order (see
    /// ``FastJSON/plainKeys(_:)``): not `__proto__`, not starting with a
    /// digit, not one of the `count` keys before it.
    @inline(__always)
    private static func isPlainKey(
        _ start: Int,
        _ length: Int,
        in cursor: MsgPackCursor,
        earlier keys: UnsafeMutablePointer<Int>,
        count: Int
    ) -> Bool {
        if length > 0 {
            let first = cursor.bytes[start]
            if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") { return false }
        }
        if cursor.equals(start, length, "__proto__") { return false }
        let key = cursor.buffer(start, length)
        for j in 0..<count where keys[2 &* j &+ 1] == length {
            if key.elementsEqual(cursor.buffer(keys[2 &* j], length)) { return false }
        }
        return true
    }

    @inline(__always)
    private static func append(_ text: StaticString, to out: inout ByteWriter) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
