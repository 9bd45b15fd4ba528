internal import MsgPack
import Synchronization

/// The first path a broadcast takes: one pass over the payload's bytes
/// (``MsgPackCursor``) that reads uid, packet and options and writes the
/// packet's JSON as it goes (``ByteJSON``), with no msgpack-c tree.
///
/// Its rules are the tree fast path's (`fastDecode`): it gives up, and the
/// tree path runs, on the same things (and a few more it leaves to the tree
/// path: malformed bytes, `socketbus` options, nesting near the depth
/// limit). Where it does not give up it writes what the tree path writes.
extension BroadcastDecoder {
    /// Every byte path's serials (``BroadcastDelivery/optionsSerial``), so a
    /// delivery moved from one decoder to another matches no serial there.
    static let optionsSerials = Atomic<UInt64>(0)

    /// Returns false to hand the payload to the tree path (`delivery` is
    /// then partly written: the caller resets it).
    func byteDecode(
        _ bytes: UnsafeRawBufferPointer,
        into delivery: inout BroadcastDelivery,
        writer out: inout ByteWriter,
        prefix: inout ByteWriter
    ) -> Bool {
        var cursor = MsgPackCursor(bytes)
        // Levels of nesting left below the packet map (root array, packet map).
        let depthBelowPacket = reader.limits.maxDepth - 2
        guard depthBelowPacket > 0, case .array(3)? = cursor.next(), case .string(let uidStart, let uidCount)? = cursor.next(),
            case .map(let packetPairs)? = cursor.next()
        else { return false }
        delivery.uid = strings.string(cursor.buffer(uidStart, uidCount))

        out.reset()
        var type: UInt64?
        var hasData = false
        var idValue: Double?
        var namespace: (start: Int, count: Int)?
        for _ in 0..<packetPairs {
            guard let key = cursor.nextKey(), let value = cursor.next() else { return false }
            if key == .type {
                guard case .uint(let v) = value, type == nil else { return false }
                type = v
            } else if key == .data {
                guard !hasData else { return false }
                hasData = true
                // The JSON goes to `out` now; its prefix is put before it at the end.
                if case .null = value { continue }
                guard
                    ByteJSON.write(
                        value,
                        from: &cursor,
                        to: &out,
                        attachments: &delivery.attachments,
                        keys: keys,
                        depthLeft: depthBelowPacket
                    )
                else { return false }
            } else if key == .nsp {
                guard case .string(let start, let count) = value else { return false }
                // `/`, most broadcasts' namespace, is what reset() left there.
                if !cursor.equals(start, count, "/") || delivery.namespace != "/" {
                    delivery.namespace = strings.string(cursor.buffer(start, count))
                }
                namespace = (start, count)
            } else if key == .id {
                guard case .uint(let v) = value else { return false }
                idValue = Double(v)
            } else if key == .proto {
                return false
            } else {
                guard cursor.skip(value, depthLeft: depthBelowPacket) else { return false }
            }
        }
        guard let type, type == 2 || type == 3 else { return false }
        delivery.existingAckId = idValue

        // Most broadcasts repeat the options (rooms, except, flags) of the
        // one before: the same bytes, kept in the delivery, are not read again.
        let options = cursor.remaining
        if delivery.optionsSerial == 0 || delivery.optionsSerial != lastOptionsSerial
            || !lastOptions.pointee.equals(options)
        {
            delivery.resetOptions()
            guard readOptions(&cursor, into: &delivery, depthLeft: depthBelowPacket), cursor.isAtEnd else { return false }
            lastOptions.pointee.reset()
            lastOptions.pointee.append(contentsOf: options.assumingMemoryBound(to: UInt8.self))
            lastOptionsSerial = Self.optionsSerials.add(1, ordering: .relaxed).newValue
            delivery.optionsSerial = lastOptionsSerial
        }

        // `<type>[<attachments>-][<nsp>,][<id>]`, before the JSON.
        prefix.reset()
        let attachmentCount = delivery.attachments.count
        prefix.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: attachmentCount > 0 ? type &+ 3 : type))
        if attachmentCount > 0 {
            AckIdInjector.appendDecimal(UInt64(attachmentCount), to: &prefix)
            prefix.append(UInt8(ascii: "-"))
        }
        if let namespace, namespace.count > 0, !cursor.equals(namespace.start, namespace.count, "/") {
            prefix.append(contentsOf: cursor.buffer(namespace.start, namespace.count))
            prefix.append(UInt8(ascii: ","))
        }
        if let idValue { JSNumberFormatter.appendJSONNumber(idValue, to: &prefix) }
        let gap = out.insertGap(at: 0, width: prefix.count)
        if let source = prefix.bytes.baseAddress { gap.update(from: source, count: prefix.count) }
        delivery.packet.replaceSubrange(delivery.packet.startIndex..<delivery.packet.endIndex, with: out.bytes)
        delivery.usedByteDecoder = true
        return true
    }

    /// The options map: rooms, except and flags.
    private func readOptions(_ cursor: inout MsgPackCursor, into delivery: inout BroadcastDelivery, depthLeft: Int) -> Bool {
        guard case .map(let pairs)? = cursor.next() else { return false }
        for _ in 0..<pairs {
            guard let key = cursor.nextKey(), let value = cursor.next() else { return false }
            if key == .rooms {
                guard readRooms(value, &cursor, into: &delivery.rooms) else { return false }
            } else if key == .except {
                guard readRooms(value, &cursor, into: &delivery.except) else { return false }
            } else if key == .flags {
                guard case .map(let flagPairs) = value, readFlags(flagPairs, &cursor, into: &delivery, depthLeft: depthLeft)
                else { return false }
            } else if key == .socketbus {
                return false  // rare: the tree path reads it
            } else {
                guard cursor.skip(value, depthLeft: depthLeft) else { return false }
            }
        }
        return true
    }

    /// The last flags map is the one that counts, as in the tree path.
    private func readFlags(
        _ pairs: Int,
        _ cursor: inout MsgPackCursor,
        into delivery: inout BroadcastDelivery,
        depthLeft: Int
    ) -> Bool {
        delivery.isVolatile = false
        delivery.compress = nil
        for _ in 0..<pairs {
            guard let key = cursor.next(), cursor.skip(key, depthLeft: depthLeft - 1), let value = cursor.next() else {
                return false
            }
            if case .string(let start, let count) = key {
                if cursor.equals(start, count, "volatile") {
                    if case .bool(let flag) = value { delivery.isVolatile = flag } else { delivery.isVolatile = false }
                } else if cursor.equals(start, count, "compress") {
                    if case .bool(let flag) = value { delivery.compress = flag } else { delivery.compress = nil }
                }
            }
            guard cursor.skip(value, depthLeft: depthLeft - 1) else { return false }
        }
        return true
    }

    private func readRooms(_ list: MsgPackCursor.Token, _ cursor: inout MsgPackCursor, into rooms: inout [Room]) -> Bool {
        guard case .array(let count) = list else { return false }
        for _ in 0..<count {
            switch cursor.next() {
            case .string(let start, let length)?: rooms.append(.name(strings.string(cursor.buffer(start, length))))
            case .uint(let v)?: rooms.append(.number(Double(v)))
            case .int(let v)?: rooms.append(.number(Double(v)))
            case .float(let v)?: rooms.append(.number(v))
            default: return false
            }
        }
        return true
    }
}

/// The keys of a broadcast's packet and options maps the byte path reads.
enum BroadcastKey {
    case type, data, nsp, id, proto, rooms, except, flags, socketbus, other
}

extension MsgPackCursor {
    /// A `fixstr` key's header and bytes as ``peekWord()`` reads them, and
    /// the mask of those bytes (tests check these against the keys).
    static let typeWord: UInt64 = 0x65_7079_74a4, mask5: UInt64 = 0xff_ffff_ffff
    static let dataWord: UInt64 = 0x61_7461_64a4
    static let nspWord: UInt64 = 0x7073_6ea3, mask4: UInt64 = 0xffff_ffff
    static let idWord: UInt64 = 0x64_69a2, mask3: UInt64 = 0xff_ffff
    static let roomsWord: UInt64 = 0x736d_6f6f_72a5, mask6: UInt64 = 0xffff_ffff_ffff
    static let flagsWord: UInt64 = 0x7367_616c_66a5
    static let exceptWord: UInt64 = 0x74_7065_6378_65a6, mask7: UInt64 = 0xff_ffff_ffff_ffff

    /// The next map key, which must be a string (nil otherwise, or for
    /// malformed bytes). The common keys, written as `fixstr`, are matched
    /// with one compare of their header and bytes (ASCII: nothing to
    /// validate); any other key is read and validated as a string.
    @inline(__always)
    mutating func nextKey() -> BroadcastKey? {
        if let word = peekWord() {
            if word & Self.mask5 == Self.typeWord {
                advance(5)
                return .type
            }
            if word & Self.mask5 == Self.dataWord {
                advance(5)
                return .data
            }
            if word & Self.mask4 == Self.nspWord {
                advance(4)
                return .nsp
            }
            if word & Self.mask6 == Self.roomsWord {
                advance(6)
                return .rooms
            }
            if word & Self.mask6 == Self.flagsWord {
                advance(6)
                return .flags
            }
            if word & Self.mask7 == Self.exceptWord {
                advance(7)
                return .except
            }
            if word & Self.mask3 == Self.idWord {
                advance(3)
                return .id
            }
        }
        guard case .string(let start, let count)? = next() else { return nil }
        if equals(start, count, "type") { return .type }
        if equals(start, count, "data") { return .data }
        if equals(start, count, "nsp") { return .nsp }
        if equals(start, count, "id") { return .id }
        if equals(start, count, "__proto__") { return .proto }
        if equals(start, count, "rooms") { return .rooms }
        if equals(start, count, "except") { return .except }
        if equals(start, count, "flags") { return .flags }
        if equals(start, count, DeliveryRequest.optionsKey) { return .socketbus }
        return .other
    }
}
