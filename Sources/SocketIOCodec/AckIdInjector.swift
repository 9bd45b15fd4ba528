/// Puts an ack id into a packet string that socket.io-parser already encoded.
///
/// The id has a fixed place: right after `<type>[<attachments>-][<nsp>,]` and
/// right before the JSON array of the event. Only EVENT (2) and BINARY_EVENT
/// (5) packets take one; a packet that already carries an id is left as it
/// is (its id belongs to whoever encoded it). Attachments never change.
///
/// Splicing keeps one encode per broadcast, shared by every target socket,
/// which is what the node's adapter does too.
public enum AckIdInjector {
    /// Largest id: the parsers read ids as JavaScript numbers.
    public static let maximumId: UInt64 = (1 << 53) - 1

    public enum Outcome: Sendable, Hashable {
        /// The id was inserted.
        case injected
        /// The packet already had this id; the output is the input.
        case alreadyPresent(UInt64)
    }

    /// Where the id goes in `packet`, or the id it already has.
    public static func insertionPoint(in packet: Span<UInt8>) throws(CodecError) -> (index: Int, existing: UInt64?) {
        guard packet.count > 0 else {
            throw CodecError(.invalidPacket, offset: 0, "empty packet string")
        }
        let type = packet[0]
        guard type >= UInt8(ascii: "0") && type <= UInt8(ascii: "6") else {
            throw CodecError(.invalidPacket, offset: 0, "packet type '\(Character(Unicode.Scalar(type)))' is not 0-6")
        }
        guard type == UInt8(ascii: "2") || type == UInt8(ascii: "5") else {
            throw CodecError(
                .notAnEvent,
                offset: 0,
                "packet type \(type - UInt8(ascii: "0")) is not EVENT (2) or BINARY_EVENT (5): only events take an ack id"
            )
        }
        var i = 1
        if type == UInt8(ascii: "5") {
            let digitsStart = i
            while i < packet.count && isDigit(packet[i]) { i += 1 }
            guard i > digitsStart, i < packet.count, packet[i] == UInt8(ascii: "-") else {
                throw CodecError(.invalidPacket, offset: i, "BINARY_EVENT without '<attachments>-' after the type")
            }
            i += 1
        }
        if i < packet.count && packet[i] == UInt8(ascii: "/") {
            while i < packet.count && packet[i] != UInt8(ascii: ",") { i += 1 }
            guard i < packet.count else {
                throw CodecError(.invalidPacket, offset: i, "namespace not followed by ','")
            }
            i += 1
        }
        if i < packet.count && isDigit(packet[i]) {
            var existing: UInt64 = 0
            var j = i
            while j < packet.count && isDigit(packet[j]) {
                let (times10, o1) = existing.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(packet[j] - UInt8(ascii: "0")))
                guard !o1 && !o2 else { throw CodecError(.invalidPacket, offset: i, "ack id too long") }
                existing = sum
                j += 1
            }
            return (i, existing)
        }
        guard i < packet.count && packet[i] == UInt8(ascii: "[") else {
            throw CodecError(.invalidPacket, offset: i, "expected the event's JSON array here")
        }
        return (i, nil)
    }

    /// Writes `packet` with `id` spliced in to `output` (cleared first; its
    /// capacity is reused, so a warm buffer makes this allocation-free).
    @discardableResult
    public static func inject(
        _ id: UInt64,
        into packet: Span<UInt8>,
        output: inout [UInt8]
    ) throws(CodecError) -> Outcome {
        guard id <= maximumId else {
            throw CodecError(.unsupportedValue, "ack id \(id) is above 2^53-1, which JavaScript cannot read exactly")
        }
        let (index, existing) = try insertionPoint(in: packet)
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(packet.count + 16)
        packet.withUnsafeBufferPointer { bytes in
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[0..<index]))
            if existing == nil { appendDecimal(id, to: &output) }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index...]))
        }
        return existing.map { .alreadyPresent($0) } ?? .injected
    }

    /// Returns `packet` with `id` spliced in (unchanged if it has an id).
    public static func inject(_ id: UInt64, into packet: [UInt8]) throws(CodecError) -> [UInt8] {
        var output: [UInt8] = []
        try inject(id, into: packet.span, output: &output)
        return output
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func appendDecimal(_ value: UInt64, to output: inout [UInt8]) {
        if value < 10 {
            output.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // Digits are produced backwards into a stack buffer, then copied.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var start = 20
            while rest > 0 {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }
}
