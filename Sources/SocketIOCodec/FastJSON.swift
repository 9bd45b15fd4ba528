internal import MsgPack

/// JSON straight from msgpack-c's tree, for the values where that is
/// provably what `JSON.stringify(notepack.decode(x))` gives.
enum FastJSON {
    static func write<Sink: ByteSink>(_ o: MsgPackObject, to out: inout Sink, attachments: inout [[UInt8]]) -> Bool {
        switch o.kind {
        case .nil:
            append("null", to: &out)
        case .bool:
            append(o.boolValue ? "true" : "false", to: &out)
        case .uint:
            let v = o.uint64Value
            if v < 1 << 53 {
                AckIdInjector.appendDecimal(v, to: &out)
            } else {
                JSNumberFormatter.appendJSONNumber(Double(v), to: &out)
            }
        case .int:
            let v = o.int64Value
            if v > -(1 << 53) && v < 0 {
                out.append(UInt8(ascii: "-"))
                AckIdInjector.appendDecimal(UInt64(-v), to: &out)
            } else {
                JSNumberFormatter.appendJSONNumber(Double(v), to: &out)
            }
        case .float32, .float64:
            JSNumberFormatter.appendJSONNumber(o.doubleValue, to: &out)
        case .string:
            o.withBytes { JSONQuoting.appendQuoted($0, to: &out) }
        case .binary:
            append(#"{"_placeholder":true,"num":"#, to: &out)
            AckIdInjector.appendDecimal(UInt64(attachments.count), to: &out)
            out.append(UInt8(ascii: "}"))
            attachments.append(o.bytes)
        case .ext:
            return false
        case .array:
            out.append(UInt8(ascii: "["))
            for i in 0..<o.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                guard write(o[i], to: &out, attachments: &attachments) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .map:
            guard plainKeys(o) else { return false }
            out.append(UInt8(ascii: "{"))
            for i in 0..<o.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                o.key(at: i).withBytes { JSONQuoting.appendQuoted($0, to: &out) }
                out.append(UInt8(ascii: ":"))
                guard write(o.value(at: i), to: &out, attachments: &attachments) else { return false }
            }
            out.append(UInt8(ascii: "}"))
        }
        return true
    }

    @inline(__always)
    private static func append<Sink: ByteSink>(_ text: StaticString, to out: inout Sink) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// True when insertion order is JavaScript's property order and every
    /// key becomes an own property: string keys, none repeated, none an
    /// array index, none `__proto__`.
    static func plainKeys(_ map: MsgPackObject) -> Bool {
        let n = map.count
        guard n <= 32 else { return false }
        for i in 0..<n {
            let key = map.key(at: i)
            guard key.kind == .string, !key.isString("__proto__") else { return false }
            let looksNumeric = key.withBytes { span in
                span.count > 0 && span[0] >= UInt8(ascii: "0") && span[0] <= UInt8(ascii: "9")
            }
            if looksNumeric { return false }
            for j in 0..<i where map.key(at: j).hasSameBytes(as: key) { return false }
        }
        // A value that is undefined or unusual is caught by `write`.
        return true
    }
}
