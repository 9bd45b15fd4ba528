/// DELIVER, the frame busd writes once per routed broadcast, written in one
/// pass through a pointer and appended in one go: the field-by-field
/// ``FrameWriter`` checks and grows the output at every field, which cost
/// more than the rest of the delivery's framing.
///
/// Byte for byte what ``FrameWriter`` writes; a frame it would refuse (a
/// string over 65535 bytes, a frame over ``LocalFrame/maximumLength``) is
/// left to it, so the errors are its own.
enum DeliverFrameWriter {
    /// Appends the whole frame to `output`; false when the frame is one to
    /// leave to ``FrameWriter`` (nothing appended then).
    static func append(
        ackId: UInt64,
        flags: DeliveryFlags,
        namespace: String,
        socketIds: [String],
        packet: [UInt8],
        attachments: [[UInt8]],
        to output: inout [UInt8]
    ) -> Bool {
        guard namespace.utf8.count <= 0xffff else { return false }
        // type, ack id, flags, namespace, two list counts, packet length
        var length = 1 + 8 + 1 + 2 + namespace.utf8.count + 4 + 4 + packet.count + 4
        for id in socketIds {
            let count = id.utf8.count
            guard count <= 0xffff else { return false }
            length += 2 + count
        }
        for attachment in attachments { length += 4 + attachment.count }
        guard length <= LocalFrame.maximumLength else { return false }
        withUnsafeTemporaryAllocation(byteCount: 4 + length, alignment: 1) { frame in
            var out = PointerWriter(next: frame.baseAddress!)
            out.u32(UInt32(truncatingIfNeeded: length))
            out.u8(FrameType.deliver.rawValue)
            out.u64(ackId)
            out.u8(flags.byte)
            out.string(namespace)
            out.u32(UInt32(truncatingIfNeeded: socketIds.count))
            for id in socketIds { out.string(id) }
            out.blob(packet)
            out.u32(UInt32(truncatingIfNeeded: attachments.count))
            for attachment in attachments { out.blob(attachment) }
            output.append(contentsOf: UnsafeRawBufferPointer(frame))
        }
        return true
    }
}

/// Writes big-endian integers and bytes at a pointer the caller sized.
private struct PointerWriter {
    var next: UnsafeMutableRawPointer

    mutating func u8(_ v: UInt8) {
        next.storeBytes(of: v, as: UInt8.self)
        next += 1
    }
    mutating func u16(_ v: UInt16) {
        next.storeBytes(of: v.bigEndian, toByteOffset: 0, as: UInt16.self)
        next += 2
    }
    mutating func u32(_ v: UInt32) {
        next.storeBytes(of: v.bigEndian, toByteOffset: 0, as: UInt32.self)
        next += 4
    }
    mutating func u64(_ v: UInt64) {
        next.storeBytes(of: v.bigEndian, toByteOffset: 0, as: UInt64.self)
        next += 8
    }
    mutating func bytes(_ b: UnsafeRawBufferPointer) {
        guard let base = b.baseAddress, b.count > 0 else { return }
        next.copyMemory(from: base, byteCount: b.count)
        next += b.count
    }
    /// The caller checked that it fits a u16.
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u16(UInt16(truncatingIfNeeded: utf8.count))
            bytes(UnsafeRawBufferPointer(utf8))
        }
    }
    mutating func blob(_ b: [UInt8]) {
        u32(UInt32(truncatingIfNeeded: b.count))
        b.withUnsafeBytes { bytes($0) }
    }
}
