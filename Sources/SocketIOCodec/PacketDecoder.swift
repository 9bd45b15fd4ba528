/// Reads a Socket.IO packet string back into a packet, as socket.io-parser's
/// decoder does, and puts the binary attachments back in place of their
/// placeholders. busd uses it for the node's own broadcasts, which the
/// connector hands over already encoded.
public enum PacketDecoder {
    public static func decode(_ text: [UInt8], attachments: [[UInt8]] = []) throws(CodecError) -> SocketIOPacket {
        guard let first = text.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "6") else {
            throw CodecError(.invalidPacket, offset: 0, "a packet starts with its type digit 0-6")
        }
        let type = Int(first - UInt8(ascii: "0"))
        var i = 1
        var attachmentCount = 0
        if type == 5 || type == 6 {
            let start = i
            while i < text.count, isDigit(text[i]) {
                attachmentCount = attachmentCount * 10 + Int(text[i] - UInt8(ascii: "0"))
                i += 1
                guard attachmentCount <= 1_000_000 else { throw CodecError(.invalidPacket, offset: start, "attachment count too large") }
            }
            guard i > start, i < text.count, text[i] == UInt8(ascii: "-") else {
                throw CodecError(.invalidPacket, offset: i, "binary packet without '<attachments>-'")
            }
            i += 1
        }
        var namespace = "/"
        if i < text.count, text[i] == UInt8(ascii: "/") {
            let start = i
            while i < text.count, text[i] != UInt8(ascii: ",") { i += 1 }
            namespace = String(decoding: text[start..<i], as: UTF8.self)
            if i < text.count { i += 1 }
        }
        var id: Double?
        if i < text.count, isDigit(text[i]) {
            var value: Double = 0
            while i < text.count, isDigit(text[i]) {
                value = value * 10 + Double(text[i] - UInt8(ascii: "0"))
                i += 1
            }
            id = value
        }
        var data: JSValue?
        if i < text.count {
            data = try JSONParser().parse(Array(text[i...]))
        }
        guard attachmentCount == attachments.count else {
            throw CodecError(.invalidPacket, "packet announces \(attachmentCount) attachments, \(attachments.count) given")
        }
        if let parsed = data, attachmentCount > 0 {
            data = try reconstruct(parsed, attachments)
        }
        return SocketIOPacket(type: type, namespace: namespace, id: id, data: data)
    }

    /// Replaces `{"_placeholder":true,"num":N}` with attachment N.
    private static func reconstruct(_ value: JSValue, _ attachments: [[UInt8]]) throws(CodecError) -> JSValue {
        switch value {
        case .array(let elements):
            var out: [JSValue] = []
            out.reserveCapacity(elements.count)
            for element in elements { out.append(try reconstruct(element, attachments)) }
            return .array(out)
        case .object(let object):
            if object["_placeholder"] == .bool(true), case .number(let n)? = object["num"] {
                guard n >= 0, n < Double(attachments.count), n.rounded(.towardZero) == n else {
                    throw CodecError(.invalidPacket, "placeholder \(n) has no attachment")
                }
                return .buffer(attachments[Int(n)])
            }
            var out = JSObject()
            for property in object.properties { out[property.key] = try reconstruct(property.value, attachments) }
            return .object(out)
        default:
            return value
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
