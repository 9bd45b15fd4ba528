import CMsgPackBaseline
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

/// The anchor: msgpack-c's `msgpack_unpack` alone, in C, on the same
/// messages (issue 2 quotes about 3 million messages/s for it here).
func msgpackCBaselineCase(_ messages: CapturedMessages) -> BenchCase {
    let zone = msgpack_baseline_zone_new()
    let payloads = messages.payloads
    let cursor = cell(Cursor(count: payloads.count))
    return BenchCase(name: "anchor: msgpack-c msgpack_unpack", bytesPerMessage: messages.averageSize) {
        let count = payloads[cursor.pointee.next()].withUnsafeBufferPointer { bytes in
            msgpack_baseline_unpack(zone, bytes.baseAddress, bytes.count)
        }
        blackHole(count)
    }
}

/// MsgPackReader: the bounds pre-scan, then msgpack-c (what the codec builds on).
func msgpackReaderCase(_ messages: CapturedMessages) -> BenchCase {
    let reader = MsgPackReader()
    let payloads = messages.payloads
    let cursor = cell(Cursor(count: payloads.count))
    return BenchCase(name: "MsgPackReader: scan+unpack", bytesPerMessage: messages.averageSize) {
        let count = try! reader.withObject(payloads[cursor.pointee.next()]) { $0.count }
        blackHole(count)
    }
}

/// busd's hot path: decode, encode the packet string, inject an ack id.
func fastPathCase(_ messages: CapturedMessages) -> BenchCase {
    let decoder = BroadcastDecoder()
    let payloads = messages.payloads
    let delivery = cell(BroadcastDelivery())
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1024)
    let withAck = cell(buffer)
    let cursor = cell(Cursor(count: payloads.count))
    let ackId = cell(UInt64(4_503_599_627_370_496))
    return BenchCase(name: "hot-path: decode+encode+inject", bytesPerMessage: messages.averageSize) {
        try! decoder.decode(payloads[cursor.pointee.next()], into: &delivery.pointee)
        try! AckIdInjector.inject(ackId.pointee, into: delivery.pointee.packet.span, output: &withAck.pointee)
        blackHole(withAck.pointee.count)
        ackId.pointee += 1
    }
}

/// The general path (JavaScript values, then the packet encoder).
func generalPathCase(_ messages: CapturedMessages) -> BenchCase {
    let reader = MsgPackReader()
    let encoder = PacketEncoder()
    let payloads = messages.payloads
    let withAck = cell([UInt8]())
    let cursor = cell(Cursor(count: payloads.count))
    return BenchCase(name: "general: decode+encode+inject", bytesPerMessage: messages.averageSize) {
        let message = try! BroadcastMessage.decode(payloads[cursor.pointee.next()], reader: reader)
        let encoded = encoder.encode(message.socketIOPacket)
        try! AckIdInjector.inject(7, into: encoded.text.span, output: &withAck.pointee)
        blackHole(withAck.pointee.count)
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
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1024)
    let output = cell(buffer)
    let cursor = cell(Cursor(count: packets.count))
    return BenchCase(name: "inject-only", bytesPerMessage: packets.reduce(0) { $0 + $1.count } / packets.count) {
        let packet = packets[cursor.pointee.next()]
        try! AckIdInjector.inject(9_007_199_254_740_000, into: packet.span, output: &output.pointee)
        blackHole(output.pointee.count)
    }
}

/// Publishing side: a broadcast encoded as @socket.io/redis-adapter 8.3 does.
func encodeBroadcastCase(_ messages: CapturedMessages) -> BenchCase {
    let decoded = messages.payloads.map { try! BroadcastMessage.decode($0) }
    let writer = MsgPackWriter()
    let cursor = cell(Cursor(count: decoded.count))
    return BenchCase(name: "encode-broadcast", bytesPerMessage: messages.averageSize) {
        writer.reset()
        Notepack.encode(decoded[cursor.pointee.next()].jsValue, into: writer)
        blackHole(writer.count)
    }
}
