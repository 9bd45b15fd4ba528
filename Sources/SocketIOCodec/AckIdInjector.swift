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
        let end = DecimalDigits.maximumCount
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: end) { digitBuffer in
            let start = existing == nil ? DecimalDigits.write(id, endingAt: end, in: digitBuffer) : end
            let digits = UnsafeBufferPointer(rebasing: digitBuffer[start..<end])
            packet.withUnsafeBufferPointer { bytes in
                splice(bytes, digits, at: index, into: &output)
            }
        }
        return existing.map { .alreadyPresent($0) } ?? .injected
    }

    /// `output` = packet[..<index] + digits + packet[index...].
    ///
    /// Each `[UInt8]` call (clear, append) costs 60-70 instructions whatever
    /// it copies, about as much as the rest of the injection; a packet that
    /// fits in a stack buffer is assembled there and handed over in one call.
    private static func splice(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ digits: UnsafeBufferPointer<UInt8>,
        at index: Int,
        into output: inout [UInt8]
    ) {
        let total = bytes.count + digits.count
        guard total <= 1024 else {
            output.removeAll(keepingCapacity: true)
            output.reserveCapacity(total)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<index]))
            output.append(contentsOf: digits)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index...]))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { joined in
            guard let target = joined.baseAddress, let source = bytes.baseAddress else {
                output.removeAll(keepingCapacity: true)  // an empty packet (refused earlier anyway)
                output.append(contentsOf: digits)
                return
            }
            target.initialize(from: source, count: index)
            if let digitBytes = digits.baseAddress {
                (target + index).initialize(from: digitBytes, count: digits.count)
            }
            (target + index + digits.count).initialize(from: source + index, count: bytes.count - index)
            output.replaceSubrange(output.startIndex..<output.endIndex, with: UnsafeBufferPointer(joined))
        }
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

    static func appendDecimal<Sink: ByteSink>(_ value: UInt64, to output: inout Sink) {
        if value < 10 {
            output.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        let end = DecimalDigits.maximumCount
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: end) { digits in
            let start = DecimalDigits.write(value, endingAt: end, in: digits)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<end]))
        }
    }
}
