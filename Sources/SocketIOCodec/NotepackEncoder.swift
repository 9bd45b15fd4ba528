public import MsgPack

extension Notepack {
    /// Writes `value` as `notepack.encode` of that flavor does, byte for byte.
    ///
    /// Integral doubles take the shortest integer form (unsigned for >= 0,
    /// so -0 is `00`), other numbers float 64; objects keep their property
    /// order. Integral values outside the 64-bit range, which notepack would
    /// mangle, are written as float 64.
    public static func encode(_ value: JSValue, flavor: NotepackFlavor = .notepack3, into writer: MsgPackWriter) {
        switch value {
        case .undefined:
            if flavor == .notepack2 {
                writer.packExtension(type: 0, data: [0])
            } else {
                writer.packNil()
            }
        case .null: writer.packNil()
        case .bool(let b): writer.packBool(b)
        case .number(let n): encodeNumber(n, into: writer)
        case .string(let s): writer.packString(s)
        case .buffer(let bytes): writer.packBinary(bytes)
        case .arrayBuffer(let bytes):
            if flavor == .notepack2 {
                writer.packExtension(type: 0, data: bytes, forceExt8: true)
            } else {
                writer.packBinary(bytes)
            }
        case .date(let ms): encodeDate(ms, flavor: flavor, into: writer)
        case .array(let elements):
            writer.packArrayHeader(elements.count)
            for element in elements { encode(element, flavor: flavor, into: writer) }
        case .object(let object):
            let properties =
                flavor == .notepack3 ? object.properties.filter { $0.value != .undefined } : object.properties
            writer.packMapHeader(properties.count)
            for property in properties {
                writer.packString(property.key)
                encode(property.value, flavor: flavor, into: writer)
            }
        }
    }

    /// Encodes into a fresh byte array.
    public static func encode(_ value: JSValue, flavor: NotepackFlavor = .notepack3) throws(CodecError) -> [UInt8] {
        let writer = MsgPackWriter()
        encode(value, flavor: flavor, into: writer)
        do {
            return try writer.bytes()
        } catch {
            throw CodecError(error)
        }
    }

    private static func encodeNumber(_ n: Double, into writer: MsgPackWriter) {
        guard n.isFinite, n.rounded(.down) == n else {
            writer.packDouble(n)
            return
        }
        if n >= 0 {
            if n < 18_446_744_073_709_551_616.0 {
                writer.packUInt(UInt64(n))
            } else {
                writer.packDouble(n)
            }
        } else if n >= -9_223_372_036_854_775_808.0 {
            writer.packInt(Int64(n))
        } else {
            writer.packDouble(n)
        }
    }

    private static func encodeDate(_ ms: Double, flavor: NotepackFlavor, into writer: MsgPackWriter) {
        // JavaScript has no Date beyond ±8.64e15 ms (TimeClip makes it an
        // invalid one), though msgpack can carry one (a decoded int64 of ms
        // or of seconds): written as an invalid Date is. NaN fails the test too.
        guard ms.magnitude <= JSDate.maxTimeValue else {
            // An invalid Date: notepack 2 writes NaN's truncation (0); nothing
            // better is defined, so both flavors write nil.
            writer.packNil()
            return
        }
        // A Date holds whole ms (TimeClip truncates, as JSDate prints), exact
        // in Int64 in range; the nanoseconds come from integers, so they stay
        // in 0..<1e9 whatever a division of doubles would have rounded to.
        let millis = Int64(ms.rounded(.towardZero))
        switch flavor {
        case .notepack2:
            var data = [UInt8](repeating: 0, count: 8)
            for i in 0..<8 { data[i] = UInt8(truncatingIfNeeded: millis >> (56 - 8 * i)) }
            writer.packExtension(type: 0, data: data)
        case .notepack3:
            let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
            let nanoseconds = UInt32(millis - seconds * 1000) * 1_000_000
            writer.packTimestamp(seconds: seconds, nanoseconds: nanoseconds)
        }
    }
}
