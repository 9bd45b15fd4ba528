/// Checks JSON text without building any value, and finds where the members
/// of its top-level object lie: a 10k-socket fetchSockets answer (5 MB) is
/// passed on as the bytes it came in, so busd need only know that it is JSON
/// and where its `sockets` array starts and ends.
///
/// It accepts what ``JSONParser`` accepts (RFC 8259, nesting up to
/// `maxDepth`, strings of valid UTF-8), so that skimming instead of parsing
/// changes no answer.
public struct JSONSkim: Sendable {
    public let maxDepth: Int

    public init(maxDepth: Int = 64) {
        self.maxDepth = maxDepth
    }

    /// Whether `bytes` are one well-formed JSON text.
    public func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { skim($0, member: nil) } != nil
    }

    /// nil when `bytes` are not well-formed JSON; else the byte range of the
    /// value of the top-level object's member `key` (the last one, as
    /// JSON.parse keeps it), or nil inside when there is none or the text is
    /// not an object.
    public func member(_ key: String, of bytes: [UInt8]) -> Range<Int>?? {
        let key = Array(key.utf8)
        return bytes.withUnsafeBufferPointer { skim($0, member: key) }
    }

    /// Whether `bytes` are well-formed JSON whose top-level value is an array.
    public func isArray(_ bytes: [UInt8]) -> Bool {
        guard isValid(bytes) else { return false }
        return bytes.first { !Self.isSpace($0) } == UInt8(ascii: "[")
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09
    }

    /// The one pass: a value, then only white space. Containers are kept on
    /// a stack of their kinds (true: object), so hostile nesting costs no recursion.
    private func skim(_ bytes: UnsafeBufferPointer<UInt8>, member key: [UInt8]?) -> Range<Int>?? {
        var reader = JSONSkimReader(bytes: bytes)
        var stack: [Bool] = []
        stack.reserveCapacity(8)
        var found: Range<Int>?
        // The member name just read is `key` (of the top-level object).
        var nameMatched = false
        // Where the wanted value started, and the depth it ends at.
        var wantedStart = 0
        var wantedDepth: Int?
        while true {
            // A value starts here.
            reader.skipSpace()
            guard let byte = reader.peek() else { return nil }
            if nameMatched {
                wantedStart = reader.index
                wantedDepth = stack.count
                nameMatched = false
            }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < maxDepth else { return nil }
                reader.index += 1
                stack.append(byte == UInt8(ascii: "{"))
                reader.skipSpace()
                let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if reader.peek() == close {
                    reader.index += 1
                    stack.removeLast()
                } else if byte == UInt8(ascii: "{") {
                    guard reader.memberName(wanted: stack.count == 1 ? key : nil, found: &nameMatched) else {
                        return nil
                    }
                    continue
                } else {
                    continue
                }
            case UInt8(ascii: "\""):
                guard reader.string() else { return nil }
            case UInt8(ascii: "t"): guard reader.literal("true") else { return nil }
            case UInt8(ascii: "f"): guard reader.literal("false") else { return nil }
            case UInt8(ascii: "n"): guard reader.literal("null") else { return nil }
            default: guard reader.number() else { return nil }
            }
            // A value ended: close what ends with it, then a comma or the end.
            while true {
                if let depth = wantedDepth, depth == stack.count {
                    found = wantedStart..<reader.index
                    wantedDepth = nil
                }
                reader.skipSpace()
                guard let isObject = stack.last else {
                    return reader.index == bytes.count ? .some(found) : nil
                }
                guard let next = reader.peek() else { return nil }
                reader.index += 1
                if next == UInt8(ascii: ",") {
                    if isObject {
                        guard reader.memberName(wanted: stack.count == 1 ? key : nil, found: &nameMatched) else {
                            return nil
                        }
                    }
                    break
                }
                guard next == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { return nil }
                stack.removeLast()
            }
        }
    }
}
