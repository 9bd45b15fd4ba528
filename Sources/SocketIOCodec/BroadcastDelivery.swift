public import MsgPack

/// What busd needs from one broadcast to deliver it to its node: who it is
/// for, how, and the exact packet the node writes to each socket.
///
/// Reused across messages (arrays keep their capacity), so the steady state
/// of the hot path allocates little.
public struct BroadcastDelivery: Sendable {
    public var uid: String = ""
    public var namespace: String = "/"
    /// Target rooms; empty means every socket of the namespace.
    public var rooms: [Room] = []
    /// Rooms whose sockets are excluded.
    public var except: [Room] = []
    public var isVolatile = false
    /// nil when unset.
    public var compress: Bool?
    /// An ack id the packet already carries.
    public var existingAckId: Double?
    /// What the publisher asked of socketbus (opts `socketbus`), if anything.
    public var request: DeliveryRequest?
    /// The encoded packet string (no engine.io `4` prefix).
    public var packet: [UInt8] = []
    public var attachments: [[UInt8]] = []
    /// True when the fast path could not handle the message and the general
    /// decoder produced it (unusual keys, ext types, legacy binary types).
    public var usedGeneralPath = false
    /// Scratch space for the packet's JSON, kept here so its capacity is reused.
    var json: [UInt8] = []

    public init() {}

    mutating func reset() {
        uid = ""
        namespace = "/"
        rooms.removeAll(keepingCapacity: true)
        except.removeAll(keepingCapacity: true)
        isVolatile = false
        compress = nil
        existingAckId = nil
        request = nil
        packet.removeAll(keepingCapacity: true)
        attachments.removeAll(keepingCapacity: true)
        json.removeAll(keepingCapacity: true)
        usedGeneralPath = false
    }
}

/// Decodes broadcast payloads straight into a ``BroadcastDelivery``.
///
/// The fast path walks msgpack-c's object tree and writes the packet's JSON
/// directly, without building JavaScript values. Whatever it is not sure to
/// write exactly as socket.io-parser would (maps with array-index-like,
/// repeated or `__proto__` keys, ext values, type 5/6 packets) goes through
/// the general decoder and encoder instead; tests hold the two paths equal.
/// Not thread-safe: one per thread.
public final class BroadcastDecoder {
    public let flavor: NotepackFlavor
    private let reader: MsgPackReader
    private let encoder = PacketEncoder(parser: .v4, normalizesLegacyBinaryTypes: true)

    public init(flavor: NotepackFlavor = .notepack3, limits: MsgPackReader.Limits = .init()) {
        self.flavor = flavor
        self.reader = MsgPackReader(limits: limits)
    }

    public func decode(_ payload: [UInt8], into delivery: inout BroadcastDelivery) throws(CodecError) {
        delivery.reset()
        let handled = try reader.withCodecObject(payload) { root throws(CodecError) in
            fastDecode(root, into: &delivery)
        }
        if !handled { try generalDecode(payload, into: &delivery) }
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
    private func fastDecode(_ root: MsgPackObject, into delivery: inout BroadcastDelivery) -> Bool {
        guard root.kind == .array, root.count == 3, root[0].kind == .string,
            root[1].kind == .map, root[2].kind == .map
        else { return false }  // the general path names the problem
        delivery.uid = root[0].string ?? ""

        var type: UInt64?
        var dataIndex: Int?
        var idValue: Double?
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
                delivery.namespace = value.string ?? "/"
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
                guard Self.readRooms(options.value(at: i), into: &delivery.rooms) else { return false }
            } else if key.isString("except") {
                guard Self.readRooms(options.value(at: i), into: &delivery.except) else { return false }
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

        // The JSON first: the header depends on whether binary was found.
        var hasData = false
        if let dataIndex {
            let data = packet.value(at: dataIndex)
            if data.kind != .nil {
                guard FastJSON.write(data, to: &delivery.json, attachments: &delivery.attachments) else { return false }
                hasData = true
            }
        }
        let binary = !delivery.attachments.isEmpty
        delivery.packet.append(UInt8(ascii: "0") + UInt8(type) + (binary ? 3 : 0))
        if binary {
            AckIdInjector.appendDecimal(UInt64(delivery.attachments.count), to: &delivery.packet)
            delivery.packet.append(UInt8(ascii: "-"))
        }
        if delivery.namespace != "/" && !delivery.namespace.isEmpty {
            delivery.packet.append(contentsOf: delivery.namespace.utf8)
            delivery.packet.append(UInt8(ascii: ","))
        }
        if let idValue {
            delivery.packet.append(contentsOf: JSNumberFormatter.string(idValue).utf8)
        }
        if hasData { delivery.packet.append(contentsOf: delivery.json) }
        return true
    }

    private static func readRooms(_ array: MsgPackObject, into rooms: inout [Room]) -> Bool {
        guard array.kind == .array else { return false }
        for i in 0..<array.count {
            let element = array[i]
            switch element.kind {
            case .string: rooms.append(.name(element.string ?? ""))
            case .uint: rooms.append(.number(Double(element.uint64Value)))
            case .int: rooms.append(.number(Double(element.int64Value)))
            case .float32, .float64: rooms.append(.number(element.doubleValue))
            default: return false
            }
        }
        return true
    }
}

/// JSON straight from msgpack-c's tree, for the values where that is
/// provably what `JSON.stringify(notepack.decode(x))` gives.
enum FastJSON {
    static func write(_ o: MsgPackObject, to out: inout [UInt8], attachments: inout [[UInt8]]) -> Bool {
        switch o.kind {
        case .nil:
            out.append(contentsOf: [0x6e, 0x75, 0x6c, 0x6c])  // null
        case .bool:
            if o.boolValue {
                out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
            } else {
                out.append(contentsOf: [0x66, 0x61, 0x6c, 0x73, 0x65])
            }
        case .uint:
            let v = o.uint64Value
            if v < 1 << 53 {
                AckIdInjector.appendDecimal(v, to: &out)
            } else {
                JSNumberFormatter.appendJSON(Double(v), to: &out)
            }
        case .int:
            let v = o.int64Value
            if v > -(1 << 53) && v < 0 {
                out.append(UInt8(ascii: "-"))
                AckIdInjector.appendDecimal(UInt64(-v), to: &out)
            } else {
                JSNumberFormatter.appendJSON(Double(v), to: &out)
            }
        case .float32, .float64:
            JSNumberFormatter.appendJSON(o.doubleValue, to: &out)
        case .string:
            o.withBytes { JSONQuoting.appendQuoted($0, to: &out) }
        case .binary:
            out.append(contentsOf: #"{"_placeholder":true,"num":"#.utf8)
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
