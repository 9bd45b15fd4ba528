import Foundation
import MsgPack
import SocketIOCodec

/// The captured broadcasts of a real socket.io 4.8 cluster, 60-150 bytes each.
struct CapturedMessages {
    let payloads: [[UInt8]]

    init() {
        let here = URL(fileURLWithPath: #filePath)
        let repository = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            repository.deletingLastPathComponent().appendingPathComponent("shared/vectors/captured.jsonl"),
            repository.appendingPathComponent("Tests/SocketIOCodecTests/Fixtures/captured.jsonl"),
        ]
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }),
            let data = FileManager.default.contents(atPath: url.path)
        else { fatalError("codec-bench: captured.jsonl not found") }
        var payloads: [[UInt8]] = []
        for line in [UInt8](data).split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONParser().parse(Array(line)).objectValue,
                object["message"]?.stringValue == "broadcast packet [uid, packet, opts]",
                let hex = object["hex"]?.stringValue
            else { continue }
            let bytes = Self.hex(hex)
            if (60...150).contains(bytes.count) { payloads.append(bytes) }
        }
        self.payloads = payloads
    }

    var averageSize: Int { payloads.reduce(0) { $0 + $1.count } / max(1, payloads.count) }

    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.utf8)[...]
        while chars.count >= 2 {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }
}

/// msgpack-c's decode alone (with the bounds pre-scan): the floor.
func msgpackDecodeCase(_ messages: CapturedMessages) -> BenchCase {
    let reader = MsgPackReader()
    var index = 0
    return BenchCase(name: "msgpack-decode-only", bytesPerMessage: messages.averageSize) {
        let count = try! reader.withObject(messages.payloads[index]) { $0.count }
        blackHole(count)
        index = (index + 1) % messages.payloads.count
    }
}

/// busd's hot path: decode, encode the packet string, inject an ack id.
func fastPathCase(_ messages: CapturedMessages) -> BenchCase {
    let decoder = BroadcastDecoder()
    var delivery = BroadcastDelivery()
    var withAck: [UInt8] = []
    withAck.reserveCapacity(1024)
    var index = 0
    var ackId: UInt64 = 4_503_599_627_370_496
    return BenchCase(name: "hot-path: decode+encode+inject", bytesPerMessage: messages.averageSize) {
        try! decoder.decode(messages.payloads[index], into: &delivery)
        try! AckIdInjector.inject(ackId, into: delivery.packet.span, output: &withAck)
        blackHole(withAck.count)
        ackId += 1
        index = (index + 1) % messages.payloads.count
    }
}

/// The general path (JavaScript values, then the packet encoder).
func generalPathCase(_ messages: CapturedMessages) -> BenchCase {
    let reader = MsgPackReader()
    let encoder = PacketEncoder()
    var withAck: [UInt8] = []
    var index = 0
    return BenchCase(name: "general: decode+encode+inject", bytesPerMessage: messages.averageSize) {
        let message = try! BroadcastMessage.decode(messages.payloads[index], reader: reader)
        let encoded = encoder.encode(message.socketIOPacket)
        try! AckIdInjector.inject(7, into: encoded.text.span, output: &withAck)
        blackHole(withAck.count)
        index = (index + 1) % messages.payloads.count
    }
}

/// Ack id injection alone, into a reused buffer.
func injectCase(_ messages: CapturedMessages) -> BenchCase {
    let decoder = BroadcastDecoder()
    var delivery = BroadcastDelivery()
    let packets: [[UInt8]] = messages.payloads.map { payload in
        try! decoder.decode(payload, into: &delivery)
        return delivery.packet
    }
    var output: [UInt8] = []
    output.reserveCapacity(1024)
    var index = 0
    return BenchCase(name: "inject-only", bytesPerMessage: packets.reduce(0) { $0 + $1.count } / packets.count) {
        let packet = packets[index]
        try! AckIdInjector.inject(9_007_199_254_740_000, into: packet.span, output: &output)
        blackHole(output.count)
        index = (index + 1) % packets.count
    }
}

/// Publishing side: a broadcast encoded as @socket.io/redis-adapter 8.3 does.
func encodeBroadcastCase(_ messages: CapturedMessages) -> BenchCase {
    let decoded = messages.payloads.map { try! BroadcastMessage.decode($0) }
    let writer = MsgPackWriter()
    var index = 0
    return BenchCase(name: "encode-broadcast", bytesPerMessage: messages.averageSize) {
        writer.reset()
        Notepack.encode(decoded[index].jsValue, into: writer)
        blackHole(writer.count)
        index = (index + 1) % decoded.count
    }
}
