internal import CMsgPack

/// Encodes MessagePack with msgpack-c into a growable buffer it owns.
///
/// msgpack-c always picks the shortest encoding of a header (the same rule as
/// notepack.io and the MessagePack spec); ``packExtension(type:data:forceExt8:)``
/// is the one way to write a longer header, for notepack 2's ArrayBuffers.
/// Not thread-safe; call ``reset()`` to reuse the buffer for the next message.
public final class MsgPackWriter {
    private let buffer: UnsafeMutablePointer<msgpack_sbuffer>
    private let packer: UnsafeMutablePointer<msgpack_packer>
    private var failed = false

    public init() {
        guard let buffer = msgpack_sbuffer_new(),
            let packer = msgpack_packer_new(UnsafeMutableRawPointer(buffer), msgpack_sbuffer_write)
        else { fatalError("msgpack_sbuffer_new: out of memory") }
        self.buffer = buffer
        self.packer = packer
    }

    deinit {
        msgpack_packer_free(packer)
        msgpack_sbuffer_free(buffer)
    }

    /// Drops what was written, keeping the allocated capacity.
    public func reset() {
        msgpack_sbuffer_clear(buffer)
        failed = false
    }

    /// Number of bytes written since the last reset.
    public var count: Int { buffer.pointee.size }

    /// A copy of the bytes written since the last reset.
    public func bytes() throws(MsgPackError) -> [UInt8] {
        if failed { throw MsgPackError(.encodingFailed, offset: count, "msgpack-c could not grow its buffer") }
        guard let data = buffer.pointee.data, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: count))
    }

    private func check(_ rc: Int32) {
        if rc != 0 { failed = true }
    }

    public func packNil() { check(msgpack_pack_nil(packer)) }
    public func packBool(_ v: Bool) { check(v ? msgpack_pack_true(packer) : msgpack_pack_false(packer)) }
    /// Shortest form; non-negative values use the unsigned encodings.
    public func packInt(_ v: Int64) { check(msgpack_pack_int64(packer, v)) }
    public func packUInt(_ v: UInt64) { check(msgpack_pack_uint64(packer, v)) }
    public func packDouble(_ v: Double) { check(msgpack_pack_double(packer, v)) }
    public func packFloat(_ v: Float) { check(msgpack_pack_float(packer, v)) }
    public func packArrayHeader(_ count: Int) { check(msgpack_pack_array(packer, count)) }
    public func packMapHeader(_ count: Int) { check(msgpack_pack_map(packer, count)) }

    public func packString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            check(msgpack_pack_str_with_body(packer, utf8.baseAddress, utf8.count))
        }
    }

    public func packBinary(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            check(msgpack_pack_bin_with_body(packer, raw.baseAddress, raw.count))
        }
    }

    /// An ext value. msgpack-c uses fixext for 1, 2, 4, 8 and 16 bytes; with
    /// `forceExt8` the ext 8/16/32 header is written whatever the length.
    public func packExtension(type: Int8, data: [UInt8], forceExt8: Bool = false) {
        if forceExt8 {
            var header: [UInt8]
            let n = data.count
            if n < 1 << 8 {
                header = [0xc7, UInt8(n)]
            } else if n < 1 << 16 {
                header = [0xc8, UInt8(n >> 8), UInt8(n & 0xff)]
            } else {
                header = [0xc9, UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
            }
            header.append(UInt8(bitPattern: type))
            header.withUnsafeBytes { raw in
                check(CMsgPack_writeRaw(packer, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count))
            }
        } else {
            check(msgpack_pack_ext(packer, data.count, type))
        }
        data.withUnsafeBytes { raw in
            check(msgpack_pack_ext_body(packer, raw.baseAddress, raw.count))
        }
    }

    /// A MessagePack timestamp (ext -1), in the shortest of its three forms.
    public func packTimestamp(seconds: Int64, nanoseconds: UInt32) {
        var ts = msgpack_timestamp(tv_sec: seconds, tv_nsec: nanoseconds)
        check(msgpack_pack_timestamp(packer, &ts))
    }

    /// Writes a whole value, map entries in the order given.
    public func pack(_ value: MsgPackValue) {
        switch value {
        case .nil: packNil()
        case .bool(let v): packBool(v)
        case .int(let v): packInt(v)
        case .uint(let v): packUInt(v)
        case .float32(let v): packFloat(v)
        case .float64(let v): packDouble(v)
        case .string(let v): packString(v)
        case .binary(let v): packBinary(v)
        case .ext(let type, let data): packExtension(type: type, data: data)
        case .array(let elements):
            packArrayHeader(elements.count)
            for element in elements { pack(element) }
        case .map(let entries):
            packMapHeader(entries.count)
            for entry in entries {
                pack(entry.key)
                pack(entry.value)
            }
        }
    }

    /// Encodes one value into a fresh byte array.
    public static func encode(_ value: MsgPackValue) throws(MsgPackError) -> [UInt8] {
        let writer = MsgPackWriter()
        writer.pack(value)
        return try writer.bytes()
    }
}
