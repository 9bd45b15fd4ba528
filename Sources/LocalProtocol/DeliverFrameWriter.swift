/// DELIVER and DELIVER_TO_ROOMS, the frames busd writes once per routed
/// broadcast (to a v1 and a v2 node), written in one
/// pass through a pointer and appended in one go: the field-by-field
/// ``FrameWriter`` checks and grows the output at every field, which cost
/// more than the rest of the delivery's framing.
///
/// Byte for byte what ``FrameWriter`` writes; a frame it would refuse (a
/// string over 65535 bytes, a frame over ``LocalFrame/maximumLength``) is
/// left to it, so the errors are its own.
///
/// Public for busd's router, which writes a delivery's frame once and
/// copies it into each connection's queue (``withDeliver(ackId:flags:namespace:socketIds:packet:attachments:_:)``).
public enum DeliverFrameWriter {
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
        withDeliver(
            ackId: ackId,
            flags: flags,
            namespace: namespace,
            socketIds: socketIds,
            packet: packet,
            attachments: attachments
        ) {
            output.append(contentsOf: $0)
            return true
        } != nil
    }

    /// Lends the whole DELIVER frame (length prefix included) to `body`,
    /// valid during the call only; nil, without calling `body`, for a frame
    /// to leave to ``FrameWriter`` (it names the error, or splits the ids).
    /// Not generic: busd's router calls it from another module, where a
    /// generic result would not be specialised (~1,400 instructions a call).
    public static func withDeliver(
        ackId: UInt64,
        flags: DeliveryFlags,
        namespace: String,
        socketIds: [String],
        packet: [UInt8],
        attachments: [[UInt8]],
        _ body: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool? {
        guard namespace.utf8.count <= 0xffff else { return nil }
        // namespace, socket id count
        var head = 2 + namespace.utf8.count + 4
        for id in socketIds {
            let count = id.utf8.count
            guard count <= 0xffff else { return nil }
            head += 2 + count
        }
        return withFrame(.deliver, ackId: ackId, flags: flags, head: head, packet: packet, attachments: attachments) {
            out in
            out.string(namespace)
            out.u32(UInt32(truncatingIfNeeded: socketIds.count))
            for id in socketIds { out.string(id) }
        } body: { body($0) }
    }

    /// The frame both writers share: its length, the type, ack id and
    /// flags, then `head` bytes that `writeHead` writes, then the packet and
    /// the attachments (the tail both frames end with); nil when it is
    /// longer than a frame may be.
    @inline(__always)
    fileprivate static func withFrame(
        _ type: FrameType,
        ackId: UInt64,
        flags: DeliveryFlags,
        head: Int,
        packet: [UInt8],
        attachments: [[UInt8]],
        writeHead: (inout PointerWriter) -> Void,
        body: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool? {
        // type, ack id, flags, head, packet length, attachment count
        var length = 1 + 8 + 1 + head + 4 + packet.count + 4
        for attachment in attachments { length += 4 + attachment.count }
        guard length <= LocalFrame.maximumLength else { return nil }
        return withUnsafeTemporaryAllocation(byteCount: 4 + length, alignment: 1) { frame in
            var out = PointerWriter(next: frame.baseAddress!)
            out.u32(UInt32(truncatingIfNeeded: length))
            out.u8(type.rawValue)
            out.u64(ackId)
            out.u8(flags.byte)
            writeHead(&out)
            out.blob(packet)
            out.u32(UInt32(truncatingIfNeeded: attachments.count))
            for attachment in attachments { out.blob(attachment) }
            return body(UnsafeRawBufferPointer(frame))
        }
    }
}

extension DeliverFrameWriter {
    /// DELIVER_TO_ROOMS, as ``append(ackId:flags:namespace:socketIds:packet:attachments:to:)``.
    static func appendToRooms(
        ackId: UInt64,
        flags: DeliveryFlags,
        namespace: String,
        rooms: [LocalRoom],
        except: [LocalRoom],
        packet: [UInt8],
        attachments: [[UInt8]],
        to output: inout [UInt8]
    ) -> Bool {
        withDeliverToRooms(
            ackId: ackId,
            flags: flags,
            namespace: namespace,
            rooms: rooms,
            except: except,
            packet: packet,
            attachments: attachments
        ) {
            output.append(contentsOf: $0)
            return true
        } != nil
    }

    /// DELIVER_TO_ROOMS, as ``withDeliver(ackId:flags:namespace:socketIds:packet:attachments:_:)``.
    public static func withDeliverToRooms(
        ackId: UInt64,
        flags: DeliveryFlags,
        namespace: String,
        rooms: [LocalRoom],
        except: [LocalRoom],
        packet: [UInt8],
        attachments: [[UInt8]],
        _ body: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool? {
        guard namespace.utf8.count <= 0xffff, let roomBytes = size(of: rooms), let exceptBytes = size(of: except)
        else { return nil }
        // namespace, two room lists
        let head = 2 + namespace.utf8.count + 4 + roomBytes + 4 + exceptBytes
        return withFrame(.deliverToRooms, ackId: ackId, flags: flags, head: head, packet: packet, attachments: attachments) {
            out in
            out.string(namespace)
            out.rooms(rooms)
            out.rooms(except)
        } body: { body($0) }
    }

    /// Bytes of a room list's items; nil for one FrameWriter refuses (a
    /// name over 65535 bytes, a number that is not finite).
    private static func size(of rooms: [LocalRoom]) -> Int? {
        var bytes = 0
        for room in rooms {
            switch room {
            case .name(let name):
                guard name.utf8.count <= 0xffff else { return nil }
                bytes += 1 + 2 + name.utf8.count
            case .number(let number):
                guard number.isFinite else { return nil }
                bytes += 1 + 8
            }
        }
        return bytes
    }
}

/// Writes big-endian integers and bytes at a pointer the caller sized.
fileprivate struct PointerWriter {
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
        // In place for a native or small String (every one busd makes): the
        // copy `withUTF8` needs costs a retain and a release per string.
        let written: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            u16(UInt16(truncatingIfNeeded: utf8.count))
            bytes(UnsafeRawBufferPointer(utf8))
        }
        if written != nil { return }
        var s = s
        s.withUTF8 { utf8 in
            u16(UInt16(truncatingIfNeeded: utf8.count))
            bytes(UnsafeRawBufferPointer(utf8))
        }
    }
    /// The caller checked every room (see `size(of:)`).
    mutating func rooms(_ list: [LocalRoom]) {
        u32(UInt32(truncatingIfNeeded: list.count))
        for room in list {
            switch room {
            case .name(let name):
                u8(LocalRoom.nameTag)
                string(name)
            case .number(let number):
                u8(LocalRoom.numberTag)
                u64(number.bitPattern)
            }
        }
    }
    mutating func blob(_ b: [UInt8]) {
        u32(UInt32(truncatingIfNeeded: b.count))
        b.withUnsafeBytes { bytes($0) }
    }
}
