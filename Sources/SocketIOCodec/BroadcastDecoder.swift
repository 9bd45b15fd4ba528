public import MsgPack

/// Decodes broadcast payloads straight into a ``BroadcastDelivery``.
///
/// Three paths, tried in turn. The byte path (BroadcastDecoder+Bytes.swift)
/// reads the payload's bytes once, with no object tree. The tree fast path walks msgpack-c's object tree and writes the packet's JSON
/// directly, without building JavaScript values. Whatever it is not sure to
/// write exactly as socket.io-parser would (maps with array-index-like,
/// repeated or `__proto__` keys, ext values, type 5/6 packets) goes through
/// the general decoder and encoder instead; tests hold the two paths equal.
/// Not thread-safe: one per thread.
public final class BroadcastDecoder {
    public let flavor: NotepackFlavor
    /// False leaves the byte path out (tests compare it with the tree path).
    public let decodesBytes: Bool
    let reader: MsgPackReader
    private let encoder = PacketEncoder(parser: .v4, normalizesLegacyBinaryTypes: true)
    /// The fast path writes the packet here, then copies it into the
    /// delivery in one go; its memory is kept across messages. Behind a
    /// pointer: an inout access to a class's stored `var` is checked for
    /// exclusivity at run time (~60 instructions per message).
    private let writer: UnsafeMutablePointer<ByteWriter>
    /// The byte path's packet prefix (type, attachments, namespace, id),
    /// known only once the packet map was read.
    private let prefix: UnsafeMutablePointer<ByteWriter>
    /// The byte path's memory of each nesting level's map keys (to refuse a
    /// repeated one): ``ByteJSON/scratchPerLevel`` Ints per level.
    let keys: UnsafeMutablePointer<Int>
    let strings = StringCache()
    /// The bytes of the options map the byte path last read in full, and
    /// the serial it gave them (see ``BroadcastDelivery/optionsSerial``).
    let lastOptions: UnsafeMutablePointer<ByteWriter>
    var lastOptionsSerial: UInt64 {
        get { lastOptionsSerialStorage.pointee }
        set { lastOptionsSerialStorage.pointee = newValue }
    }
    /// Behind a pointer, as `writer`: no exclusivity check per message.
    private let lastOptionsSerialStorage: UnsafeMutablePointer<UInt64>

    public init(
        flavor: NotepackFlavor = .notepack3,
        limits: MsgPackReader.Limits = .init(),
        decodesBytes: Bool = true
    ) {
        self.flavor = flavor
        self.decodesBytes = decodesBytes
        self.reader = MsgPackReader(limits: limits)
        writer = .allocate(capacity: 1)
        writer.initialize(to: ByteWriter())
        prefix = .allocate(capacity: 1)
        prefix.initialize(to: ByteWriter(capacity: 64))
        lastOptions = .allocate(capacity: 1)
        lastOptions.initialize(to: ByteWriter(capacity: 64))
        lastOptionsSerialStorage = .allocate(capacity: 1)
        lastOptionsSerialStorage.initialize(to: 0)
        // Limits keep maxDepth within 1...32: at most 32 levels.
        let levels = max(reader.limits.maxDepth, 1)
        keys = .allocate(capacity: levels * ByteJSON.scratchPerLevel)
        keys.initialize(repeating: 0, count: levels * ByteJSON.scratchPerLevel)
    }

    deinit {
        writer.pointee.deallocate()
        writer.deinitialize(count: 1)
        writer.deallocate()
        prefix.pointee.deallocate()
        prefix.deinitialize(count: 1)
        prefix.deallocate()
        lastOptions.pointee.deallocate()
        lastOptions.deinitialize(count: 1)
        lastOptions.deallocate()
        lastOptionsSerialStorage.deallocate()
        keys.deallocate()
    }

    /// `bytePathTried`: ``decodeBytes(_:into:)`` returned false for this
    /// payload just now, so it goes to the tree path at once.
    public func decode(
        _ payload: [UInt8],
        into delivery: inout BroadcastDelivery,
        bytePathTried: Bool = false
    ) throws(CodecError) {
        if bytePathTried || !payload.withUnsafeBytes({ decodeBytes($0, into: &delivery) }) {
            delivery.reset(keepingPacket: true)
        } else {
            return
        }
        let handled: Bool
        do {
            handled = try reader.withCodecObject(payload) { root throws(CodecError) in
                fastDecode(root, into: &delivery, writer: &writer.pointee)
            }
        } catch {
            delivery.packet.removeAll(keepingCapacity: true)
            throw error
        }
        if !handled { try generalDecode(payload, into: &delivery) }
    }

    /// The byte path alone, on bytes that need not be an array (busd's
    /// router decodes straight from its read buffer): true when it decoded
    /// the payload; false leaves it to ``decode(_:into:bytePathTried:)``.
    public func decodeBytes(_ bytes: UnsafeRawBufferPointer, into delivery: inout BroadcastDelivery) -> Bool {
        guard decodesBytes && bytes.count <= reader.limits.maxBytes else { return false }
        delivery.reset(keepingPacket: true, keepingOptions: true)
        return byteDecode(bytes, into: &delivery, writer: &writer.pointee, prefix: &prefix.pointee)
    }

    private func generalDecode(_ payload: [UInt8], into delivery: inout BroadcastDelivery) throws(CodecError) {
        let message = try BroadcastMessage.decode(payload, flavor: flavor, reader: reader)
        delivery.reset()
        delivery.usedGeneralPath = true
        delivery.uid = message.uid
        delivery.namespace = message.namespace
        delivery.rooms = message.rooms
        delivery.except = message.except ?? []
        delivery.isVolatile = message.isVolatile
        delivery.compress = message.compress
        delivery.existingAckId = message.ackId
        delivery.request = message.deliveryRequest
        encoder.encode(message.socketIOPacket, text: &delivery.packet, attachments: &delivery.attachments)
    }

    /// Returns false to hand the message to the general path.
    private func fastDecode(
        _ root: MsgPackObject,
        into delivery: inout BroadcastDelivery,
        writer out: inout ByteWriter
    ) -> Bool {
        guard root.kind == .array, root.count == 3, root[0].kind == .string,
            root[1].kind == .map, root[2].kind == .map
        else { return false }  // the general path names the problem
        delivery.uid = strings.string(root[0])

        var type: UInt64?
        var dataIndex: Int?
        var idValue: Double?
        var namespaceIndex: Int?
        let packet = root[1]
        for i in 0..<packet.count {
            let key = packet.key(at: i)
            let value = packet.value(at: i)
            if key.isString("type") {
                guard value.kind == .uint, type == nil else { return false }
                type = value.uint64Value
            } else if key.isString("data") {
                guard dataIndex == nil else { return false }
                dataIndex = i
            } else if key.isString("nsp") {
                guard value.kind == .string else { return false }
                delivery.namespace = strings.string(value)
                namespaceIndex = i
            } else if key.isString("id") {
                guard value.kind == .uint else { return false }
                idValue = Double(value.uint64Value)
            } else if key.kind != .string || key.isString("__proto__") {
                return false
            }
        }
        guard let type, type == 2 || type == 3 else { return false }
        delivery.existingAckId = idValue

        let options = root[2]
        var flagsIndex: Int?
        for i in 0..<options.count {
            let key = options.key(at: i)
            if key.isString("rooms") {
                guard readRooms(options.value(at: i), into: &delivery.rooms) else { return false }
            } else if key.isString("except") {
                guard readRooms(options.value(at: i), into: &delivery.except) else { return false }
            } else if key.isString("flags") {
                guard options.value(at: i).kind == .map else { return false }
                flagsIndex = i
            } else if key.isString(DeliveryRequest.optionsKey) {
                delivery.request = DeliveryRequest(options.value(at: i))
            } else if key.kind != .string {
                return false
            }
        }
        if let flagsIndex {
            let flags = options.value(at: flagsIndex)
            for i in 0..<flags.count {
                let key = flags.key(at: i)
                let value = flags.value(at: i)
                if key.isString("volatile") {
                    delivery.isVolatile = value.kind == .bool && value.boolValue
                } else if key.isString("compress") {
                    delivery.compress = value.kind == .bool ? value.boolValue : nil
                }
            }
        }

        // `<type>[<nsp>,][<id>]<json>`; for binary data the type becomes a
        // BINARY one and `<attachments>-` follows it, known only at the end.
        out.reset()
        out.append(UInt8(ascii: "0") + UInt8(type))
        if let namespaceIndex {
            let namespace = packet.value(at: namespaceIndex)
            if namespace.count > 0 && !namespace.isString("/") {
                namespace.withBytes { span in span.withUnsafeBufferPointer { out.append(contentsOf: $0) } }
                out.append(UInt8(ascii: ","))
            }
        }
        if let idValue {
            JSNumberFormatter.appendJSONNumber(idValue, to: &out)
        }
        if let dataIndex {
            let data = packet.value(at: dataIndex)
            if data.kind != .nil {
                guard FastJSON.write(data, to: &out, attachments: &delivery.attachments) else { return false }
            }
        }
        if !delivery.attachments.isEmpty {
            var digits = 1
            var scale = 10
            while delivery.attachments.count >= scale {
                digits += 1
                scale *= 10
            }
            let gap = out.insertGap(at: 1, width: digits + 1)
            var rest = delivery.attachments.count
            for k in stride(from: digits - 1, through: 0, by: -1) {
                gap[k] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            gap[digits] = UInt8(ascii: "-")
            out.set(UInt8(ascii: "0") + UInt8(type) + 3, at: 0)
        }
        delivery.packet.replaceSubrange(delivery.packet.startIndex..<delivery.packet.endIndex, with: out.bytes)
        return true
    }

    private func readRooms(_ array: MsgPackObject, into rooms: inout [Room]) -> Bool {
        guard array.kind == .array else { return false }
        for i in 0..<array.count {
            let element = array[i]
            switch element.kind {
            case .string: rooms.append(.name(strings.string(element)))
            case .uint: rooms.append(.number(Double(element.uint64Value)))
            case .int: rooms.append(.number(Double(element.int64Value)))
            case .float32, .float64: rooms.append(.number(element.doubleValue))
            default: return false
            }
        }
        return true
    }
}
