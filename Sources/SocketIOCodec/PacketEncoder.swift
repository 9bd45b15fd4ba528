/// Encodes packets exactly as socket.io-parser does.
///
/// Format: `<type>[<attachments>-][<nsp>,][<id>][<JSON data>]`, the namespace
/// only when it is not `/`, then one binary attachment per extracted
/// Buffer/ArrayBuffer, replaced in the JSON by
/// `{"_placeholder":true,"num":N}` in depth-first order.
public struct PacketEncoder: Sendable {
    /// Which socket.io-parser the receiving node runs.
    public enum Parser: String, Sendable, Hashable, CaseIterable {
        /// socket.io-parser 4.x (socket.io 3 and 4, protocol v5): turns an
        /// EVENT/ACK with binary into BINARY_EVENT/BINARY_ACK itself.
        case v4
        /// socket.io-parser 3.x (socket.io 2.x, protocol v4): extracts binary
        /// only for types 5 and 6; a Buffer in a type 2 packet is written as
        /// `{"type":"Buffer","data":[…]}`.
        case v3
    }

    public var parser: Parser
    /// socket.io-parser 4.x given a type 5/6 packet (as socket.io 2.x-era
    /// emitters publish binary) writes `5undefined-` and JSON-ifies the
    /// Buffers — what a stock 4.x node sends, and what the client cannot
    /// decode. With this set, 5 and 6 are treated as 2 and 3 first, so the
    /// parser's own binary detection produces a packet the client can read.
    public var normalizesLegacyBinaryTypes: Bool

    public init(parser: Parser = .v4, normalizesLegacyBinaryTypes: Bool = false) {
        self.parser = parser
        self.normalizesLegacyBinaryTypes = normalizesLegacyBinaryTypes
    }

    public func encode(_ packet: SocketIOPacket) -> EncodedPacket {
        var text: [UInt8] = []
        var attachments: [[UInt8]] = []
        encode(packet, text: &text, attachments: &attachments)
        return EncodedPacket(text: text, attachments: attachments)
    }

    /// Appends the packet string to `text` and the attachments to `attachments`.
    public func encode(_ packet: SocketIOPacket, text: inout [UInt8], attachments: inout [[UInt8]]) {
        var type = packet.type
        if normalizesLegacyBinaryTypes && parser == .v4 {
            if type == 5 { type = 2 } else if type == 6 { type = 3 }
        }
        let data = packet.data.flatMap { $0 == .null || $0 == .undefined ? nil : $0 }
        let isBinaryType = type == 5 || type == 6
        var extract: Bool
        switch parser {
        case .v4:
            extract = (type == 2 || type == 3) && (data?.containsBinary ?? false)
            if extract { type += 3 }
        case .v3:
            extract = isBinaryType
        }

        var json: [UInt8] = []
        var stringifier = JSONStringifier(binary: extract ? .placeholders : .nodeJSON)
        let hasData = data.map { stringifier.append($0, to: &json) } ?? false

        appendDecimal(type, to: &text)
        if type == 5 || type == 6 {
            if extract {
                appendDecimal(stringifier.attachments.count, to: &text)
            } else {
                // `obj.attachments` was never set.
                text.append(contentsOf: "undefined".utf8)
            }
            text.append(UInt8(ascii: "-"))
        }
        if !packet.namespace.isEmpty && packet.namespace != "/" {
            text.append(contentsOf: packet.namespace.utf8)
            text.append(UInt8(ascii: ","))
        }
        if let id = packet.id {
            text.append(contentsOf: JSNumberFormatter.string(id).utf8)
        }
        if hasData { text.append(contentsOf: json) }
        if extract { attachments.append(contentsOf: stringifier.attachments) }
    }

    private func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        AckIdInjector.appendDecimal(UInt64(value.magnitude), to: &output)
    }
}
