import MsgPack
import SocketIOCodec

/// What `busctl inspect` shows: the decoded message and, for broadcasts, the
/// exact packet string and attachments a client would receive.
struct InspectReport {
    var fields: [(String, JSValue)] = []
    var lines: [(String, String)] = []

    init(
        payload: [UInt8],
        channel: AdapterChannel?,
        flavor requestedFlavor: NotepackFlavor?,
        parser: PacketEncoder.Parser,
        ackId: UInt64?
    ) throws {
        let reader = MsgPackReader()
        var evidence: NotepackFlavor?
        if PayloadEncoding.sniff(payload) == .msgpack {
            evidence = try? reader.withObject(payload) { ProducerGuess.flavorEvidence($0) }
        }
        let flavor = requestedFlavor ?? evidence ?? .notepack3
        let message = try AdapterMessage.decode(payload, channel: channel, flavor: flavor, reader: reader)

        if let channel { add("channel", .string(channel.name), text: Self.describe(channel)) }
        add("bytes", .number(Double(payload.count)))
        switch message {
        case .broadcast(let broadcast):
            add("kind", .string("broadcast"))
            add("producer", .string(ProducerGuess(message: broadcast, flavor: evidence).description))
            describeBroadcast(broadcast, parser: parser, ackId: ackId)
            if case .broadcast(_, let namespace, _)? = channel, namespace != broadcast.namespace {
                add("warning", .string("packet.nsp \(broadcast.namespace) differs from the channel's \(namespace): receiving nodes drop it"))
            }
        case .request(let request):
            add("kind", .string("request"))
            add("generation", .string(request.generation == .legacy ? "socket.io-redis 2.x-5.x" : "socket.io-redis 6.x+ / @socket.io/redis-adapter 7.x-8.x"))
            add("encoding", .string(request.encoding.rawValue))
            add("type", .number(Double(request.type)), text: "\(request.type) (\(request.typeName))")
            if let uid = request.uid { add("uid", .string(uid)) }
            if let id = request.requestId { add("requestId", .string(id)) }
            add("message", Display.value(request.value))
            if case .broadcast(let broadcast) = request.kind {
                describeBroadcast(broadcast, parser: parser, ackId: ackId)
            }
        case .response(let response):
            add("kind", .string("response"))
            add("encoding", .string(response.encoding.rawValue))
            if let id = response.requestId { add("requestId", .string(id)) }
            add("reply", .string(Self.describe(response.kind)))
            add("message", Display.value(response.value))
        case .cluster(let cluster):
            add("kind", .string("cluster"))
            add("encoding", .string(cluster.encoding.rawValue))
            add("type", .number(Double(cluster.type)), text: "\(cluster.type) (\(cluster.typeName))")
            if let uid = cluster.uid { add("uid", .string(uid)) }
            if let nsp = cluster.namespace { add("namespace", .string(nsp)) }
            add("message", Display.value(cluster.value))
            if let broadcast = cluster.broadcast {
                describeBroadcast(broadcast, parser: parser, ackId: ackId)
            }
        }
    }

    private mutating func add(_ name: String, _ value: JSValue, text: String? = nil) {
        fields.append((name, value))
        lines.append((name, text ?? Display.text(value)))
    }

    private mutating func describeBroadcast(_ message: BroadcastMessage, parser: PacketEncoder.Parser, ackId: UInt64?) {
        add("uid", .string(message.uid))
        add("namespace", .string(message.namespace))
        add("rooms", .array(message.rooms.map(\.jsValue)), text: message.rooms.isEmpty ? "(all sockets of the namespace)" : message.rooms.map(\.description).joined(separator: ", "))
        if let except = message.except {
            add("except", .array(except.map(\.jsValue)), text: except.isEmpty ? "(none)" : except.map(\.description).joined(separator: ", "))
        } else {
            add("except", .null, text: "(no except key)")
        }
        add("flags", .object(message.flags), text: message.flags.isEmpty ? "(none)" : Display.text(.object(message.flags)))
        let type = message.packetType ?? 2
        add("type", .number(Double(type)), text: "\(type) (\(SocketIOPacket.PacketType(rawValue: type).map { "\($0)" } ?? "unknown"))")
        if let id = message.ackId { add("id", .number(id)) }
        add("data", Display.value(message.data ?? .undefined))

        let encoded = PacketEncoder(parser: parser).encode(message.socketIOPacket)
        add("packet", .string(encoded.string))
        add("attachments", .array(encoded.attachments.map { .string(Hex.encode($0)) }),
            text: encoded.attachments.isEmpty ? "(none)" : encoded.attachments.enumerated().map { "#\($0.offset): \($0.element.count) bytes \(Hex.encode($0.element))" }.joined(separator: "; "))
        add("clientFrames", .array(([("4" + encoded.string)] + encoded.attachments.map { "<binary \($0.count) bytes>" }).map { .string($0) }),
            text: "4" + encoded.string + (encoded.attachments.isEmpty ? "" : " + \(encoded.attachments.count) binary frame(s)"))
        if type == 5 || type == 6, parser == .v4 {
            add("note", .string("socket.io-parser 4.x writes 'undefined-' for a pre-typed BINARY packet; busd delivers it as type \(type - 3) so the parser extracts the binary itself"))
        }
        if let ackId {
            do {
                let injected = try AckIdInjector.inject(ackId, into: encoded.text)
                let text = String(decoding: injected, as: UTF8.self)
                if injected == encoded.text {
                    add("ackPacket", .string(text), text: text + "  (already carries an id; left unchanged)")
                } else {
                    add("ackPacket", .string(text))
                }
            } catch {
                add("ackPacket", .null, text: "(no ack id: \(error))")
            }
        }
    }

    func text() -> String {
        let width = (lines.map(\.0.count).max() ?? 0) + 2
        var out = ""
        for (name, value) in lines {
            out += name + String(repeating: " ", count: max(1, width - name.count)) + value + "\n"
        }
        return out
    }

    func json() -> String {
        var object = JSObject()
        for (name, value) in fields { object[name] = value }
        return JSONStringifier.string(.object(object)) ?? "{}"
    }

    static func describe(_ channel: AdapterChannel) -> String {
        switch channel {
        case .broadcast(let key, let nsp, let room):
            return "\(channel.name)  (broadcast, key \(key), namespace \(nsp)\(room.map { ", room \($0)" } ?? ""))"
        case .request(let key, let nsp):
            return "\(channel.name)  (requests, key \(key), namespace \(nsp))"
        case .response(let key, let nsp, let uid):
            return "\(channel.name)  (responses, key \(key), namespace \(nsp)\(uid.map { ", for node \($0)" } ?? ""))"
        }
    }

    static func describe(_ kind: ResponseMessage.Kind) -> String {
        switch kind {
        case .sockets(let ids): return "SOCKETS: \(ids.count) socket(s)"
        case .clients(let ids): return "clients: \(ids.count) socket(s)"
        case .rooms(let rooms): return "rooms: \(rooms.count)"
        case .fetchedSockets(let sockets): return "REMOTE_FETCH: \(sockets.count) socket(s)"
        case .serverSideEmit: return "SERVER_SIDE_EMIT reply"
        case .broadcastClientCount(let n): return "BROADCAST_CLIENT_COUNT: \(n)"
        case .broadcastAck: return "BROADCAST_ACK"
        case .customData: return "customRequest reply"
        case .acknowledged: return "acknowledged"
        case .unknown: return "unknown"
        }
    }
}

/// Renders JavaScript values for people: binary as hex, dates as ISO text.
enum Display {
    static func value(_ v: JSValue) -> JSValue {
        switch v {
        case .undefined: return .object(JSObject([("$undefined", .bool(true))]))
        case .buffer(let b): return .object(JSObject([("$bin", .string(Hex.encode(b)))]))
        case .arrayBuffer(let b): return .object(JSObject([("$arraybuffer", .string(Hex.encode(b)))]))
        case .date(let ms): return .object(JSObject([("$date", JSDate.isoString(milliseconds: ms).map(JSValue.string) ?? .null)]))
        case .array(let a): return .array(a.map(value))
        case .object(let o): return .object(JSObject(o.properties.map { ($0.key, value($0.value)) }))
        default: return v
        }
    }

    static func text(_ v: JSValue) -> String {
        if case .string(let s) = v { return s }
        return JSONStringifier.string(value(v)) ?? "undefined"
    }
}
