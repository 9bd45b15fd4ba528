/// The requestId of a JSON response, read from its first bytes without
/// parsing the rest: most responses on a shared response channel answer
/// other servers' requests, and a large fetchSockets answer is not worth
/// parsing only to learn that. nil when it cannot tell (then parse).
public enum ResponsePeek {
    static let key = Array(#""requestId":""#.utf8)

    /// Looks within the first 64 bytes, where stock responses put it
    /// (`{"requestId":…` or `{"type":6,"requestId":…`).
    public static func requestId(_ payload: [UInt8]) -> String? {
        guard payload.first == UInt8(ascii: "{") else { return nil }
        let window = min(payload.count, 64)
        guard window > key.count else { return nil }
        var start = 1
        while start + key.count <= window {
            if payload[start..<(start + key.count)].elementsEqual(key) { break }
            start += 1
        }
        guard start + key.count <= window else { return nil }
        var end = start + key.count
        let first = end
        while end < payload.count, end - first <= 64 {
            let byte = payload[end]
            if byte == UInt8(ascii: "\"") { return String(decoding: payload[first..<end], as: UTF8.self) }
            // An escape or a control character: leave it to the parser.
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            end += 1
        }
        return nil
    }
}
