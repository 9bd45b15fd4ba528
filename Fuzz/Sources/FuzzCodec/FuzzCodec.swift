// Fuzz target: the adapter codec (Redis → busd payloads, and the packet
// strings a node hands over).
//
// Input: byte 0 picks the channel the payload arrived on (low 3 bits, see
// `channels`) and the notepack flavor (bit 3); the rest is the payload. The
// payload goes through every decoder busd runs on such bytes, and whatever
// decodes is encoded again and decoded again: nothing may trap.

import MsgPack
import SocketIOCodec

private let channels: [AdapterChannel?] = [
    nil,
    .broadcast(key: "socket.io", namespace: "/", room: nil),
    .broadcast(key: "socket.io", namespace: "/", room: "room-a"),
    .request(key: "socket.io", namespace: "/"),
    .response(key: "socket.io", namespace: "/", uid: nil),
    .response(key: "socket.io", namespace: "/", uid: "aB3dE5"),
    .broadcast(key: "socket.io", namespace: "/chat", room: nil),
    .request(key: "socket.io", namespace: "/chat"),
]

// One per process, as busd keeps one per subscriber thread.
nonisolated(unsafe) private let decoders = [BroadcastDecoder(flavor: .notepack2), BroadcastDecoder(flavor: .notepack3)]
/// Without the byte path: what the byte path gives must be what these give.
nonisolated(unsafe) private let treeDecoders = [
    BroadcastDecoder(flavor: .notepack2, decodesBytes: false), BroadcastDecoder(flavor: .notepack3, decodesBytes: false),
]
nonisolated(unsafe) private var delivery = BroadcastDelivery()
nonisolated(unsafe) private var treeDelivery = BroadcastDelivery()

// Exported too: libFuzzer's runtime refers to the symbol.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let selector = data[0]
    let payload = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let channel = channels[Int(selector & 7)]
    let flavor: NotepackFlavor = selector & 8 == 0 ? .notepack3 : .notepack2

    adapterMessage(payload, channel: channel, flavor: flavor)
    shardedMessage(payload, flavor: flavor)
    broadcastDelivery(payload, flavor: flavor)
    json(payload)
    packetString(payload)
    ackInjection(payload)
    msgPack(payload)
    return 0
}

/// What the subscriber decodes for request channels (and busctl for any).
private func adapterMessage(_ payload: [UInt8], channel: AdapterChannel?, flavor: NotepackFlavor) {
    guard let message = try? AdapterMessage.decode(payload, channel: channel, flavor: flavor) else { return }
    switch message {
    case .broadcast(let broadcast):
        _ = broadcast.socketIOPacket
        _ = (broadcast.rooms, broadcast.except, broadcast.deliveryRequest, broadcast.compress)
        _ = try? broadcast.validate()
        if let encoded = try? broadcast.encode(flavor: flavor) {
            _ = try? AdapterMessage.decode(encoded, channel: channel, flavor: flavor)
        }
    case .request(let request):
        _ = request.typeName
        reencode(request.value, encoding: request.encoding, flavor: flavor)
    case .response(let response):
        reencode(response.value, encoding: response.encoding, flavor: flavor)
    case .cluster(let cluster):
        _ = (cluster.typeName, cluster.broadcast)
        reencode(cluster.value, encoding: cluster.encoding, flavor: flavor)
    }
}

/// The sharded adapter's path: a ClusterAdapter message, encoded as a stock
/// node would, decodes to itself; its channel is picked by the stock rule.
private func shardedMessage(_ payload: [UInt8], flavor: NotepackFlavor) {
    guard let message = try? ShardedMessage.decode(payload, flavor: flavor) else { return }
    _ = (message.type.name, message.requestId, message.isResponse, message.encoding)
    for mode in ShardedChannels.Mode.allCases {
        _ = ShardedChannels(mode: mode).channel(for: message, namespace: message.namespace ?? "/")
    }
    guard let encoded = try? message.encode(flavor: flavor) else { return }
    guard let again = try? ShardedMessage.decode(encoded, flavor: flavor) else {
        fatalError("an encoded sharded message does not decode")
    }
    _ = again
}

private func reencode(_ value: JSValue, encoding: PayloadEncoding, flavor: NotepackFlavor) {
    switch encoding {
    case .json:
        guard let text = JSONStringifier.string(value) else { return }
        _ = try? JSONParser().parse(Array(text.utf8))
    case .msgpack:
        guard let bytes = try? Notepack.encode(value, flavor: flavor) else { return }
        _ = try? AdapterMessage.decodeValue(bytes, encoding: .msgpack, flavor: flavor)
    }
}

/// busd's broadcast path: straight into a delivery, then the packet it
/// would hand to its node read back as socket.io-parser would.
private func broadcastDelivery(_ payload: [UInt8], flavor: NotepackFlavor) {
    let decoder = decoders[flavor == .notepack2 ? 0 : 1]
    let decoded = (try? decoder.decode(payload, into: &delivery)) != nil
    bytePathMatchesTreePath(payload, flavor: flavor, decoded: decoded)
    guard decoded else { return }
    _ = delivery.rooms.map(\.description)
    _ = delivery.except.map(\.description)
    if let packet = try? PacketDecoder.decode(delivery.packet, attachments: delivery.attachments) {
        _ = PacketEncoder(parser: .v4).encode(packet)
    }
    _ = try? AckIdInjector.inject(AckIdInjector.maximumId, into: delivery.packet)
}

/// The byte path (one pass over the payload) and the tree path accept the
/// same payloads and, where the byte path was taken, give the same delivery.
private func bytePathMatchesTreePath(_ payload: [UInt8], flavor: NotepackFlavor, decoded: Bool) {
    let tree = treeDecoders[flavor == .notepack2 ? 0 : 1]
    let treeDecoded = (try? tree.decode(payload, into: &treeDelivery)) != nil
    guard decoded == treeDecoded else {
        fatalError("byte path decoded \(decoded), tree path \(treeDecoded)")
    }
    guard decoded, delivery.usedByteDecoder else { return }
    let a = delivery
    let b = treeDelivery
    guard a.packet == b.packet, a.attachments == b.attachments, a.uid == b.uid, a.namespace == b.namespace,
        sameRooms(a.rooms, b.rooms), sameRooms(a.except, b.except), a.isVolatile == b.isVolatile, a.compress == b.compress,
        a.existingAckId == b.existingAckId, a.request == b.request
    else {
        fatalError(
            "byte path and tree path differ: \(String(decoding: a.packet, as: UTF8.self)) vs \(String(decoding: b.packet, as: UTF8.self))"
        )
    }
}

/// Equal rooms, a NaN room included (a Double's == says NaN != NaN).
private func sameRooms(_ a: [Room], _ b: [Room]) -> Bool {
    a.count == b.count
        && zip(a, b).allSatisfy { x, y in
            switch (x, y) {
            case (.name(let p), .name(let q)): return p == q
            case (.number(let p), .number(let q)): return p.bitPattern == q.bitPattern
            default: return false
            }
        }
}

private func json(_ payload: [UInt8]) {
    let parsed = try? JSONParser().parse(payload)
    skim(payload, parsed: parsed)
    guard let value = parsed else { return }
    if let text = JSONStringifier.string(value) { _ = try? JSONParser().parse(Array(text.utf8)) }
    _ = JSONStringifier.string(value, binary: .placeholders)
    _ = try? Notepack.encode(value)
}

/// The node's own broadcasts arrive as socket.io-parser packet strings.
private func packetString(_ payload: [UInt8]) {
    guard let packet = try? PacketDecoder.decode(payload) else { return }
    for parser in PacketEncoder.Parser.allCases {
        let encoded = PacketEncoder(parser: parser, normalizesLegacyBinaryTypes: true).encode(packet)
        _ = try? PacketDecoder.decode(encoded.text, attachments: encoded.attachments)
    }
    // As ClusterMember.publishBroadcast lays out the node's broadcast.
    guard case .array(let data)? = packet.data else { return }
    let message = BroadcastMessage(
        uid: "fuzz",
        data: data,
        namespace: packet.namespace,
        id: packet.id,
        rooms: [.name("room-a")],
        except: [.name("b")]
    )
    if let encoded = try? message.encode(flavor: .notepack3) {
        _ = message.channel().name
        _ = try? AdapterMessage.decode(encoded, channel: message.channel())
    }
}

private func ackInjection(_ payload: [UInt8]) {
    _ = try? AckIdInjector.insertionPoint(in: payload.span)
    _ = try? AckIdInjector.inject(1, into: payload)
}

/// The plain msgpack view (busctl's inspect), written back out.
private func msgPack(_ payload: [UInt8]) {
    guard let value = try? MsgPackReader().decode(payload) else { return }
    _ = try? MsgPackWriter.encode(value)
}

/// JSONSkim stands in for the parser on answers from Redis and the node:
/// what one accepts the other must accept, and the member it finds is the
/// parser's member (the last of that name, as JSON.parse keeps it) unless
/// a name is escaped.
private func skim(_ payload: [UInt8], parsed: JSValue?) {
    let skim = JSONSkim()
    guard skim.isValid(payload) == (parsed != nil) else {
        fatalError("JSONSkim and JSONParser disagree: skim \(skim.isValid(payload)), parser \(parsed != nil)")
    }
    guard let member = skim.member("sockets", of: payload) else {
        guard parsed == nil else { fatalError("JSONSkim.member refused what JSONParser parsed") }
        return
    }
    guard case .object(let object)? = parsed else {
        guard member == nil else { fatalError("JSONSkim found a member outside an object") }
        return
    }
    // An escaped name is never matched (documented: busd's keys are plain),
    // so where a backslash is the parser may find a member the skim does not.
    guard !payload.contains(UInt8(ascii: "\\")) else { return }
    guard let range = member else {
        guard object["sockets"] == nil else { fatalError("JSONSkim missed the member the parser has") }
        return
    }
    guard range.lowerBound >= 0, range.upperBound <= payload.count,
        let value = try? JSONParser().parse(Array(payload[range])), value == object["sockets"]
    else {
        fatalError("JSONSkim's member is not the parser's member")
    }
    guard skim.isArray(payload) == false else { fatalError("JSONSkim calls an object an array") }
}
