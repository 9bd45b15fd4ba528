/// A socket id in 24 bytes with no heap allocation: up to 23 UTF-8 bytes
/// inline, the count in the last byte. Every socket.io 3+ id (20
/// characters) fits; a longer id (socket.io 2.x's `<nsp>#<engine id>`
/// outside "/") is marked long and its text is kept by ``SocketIdTable``.
///
/// 24 bytes and no String per socket is what keeps the registry's ids near
/// 35 bytes per socket at a million sockets (key and index together).
struct SocketKey: Hashable, Sendable {
    static let inlineCapacity = 23
    private static let longMark: UInt64 = 0xFF << 56

    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    /// Bytes 16...22 of the id, and its byte count in the top byte.
    private var w2: UInt64 = 0

    /// The free slot's key: no id has it (not even "", whose key is all zeros).
    static let empty = SocketKey(w2: 0xFE << 56)
    /// The key of any long id: the text is elsewhere.
    static let long = SocketKey(w2: longMark)

    private init(w2: UInt64 = 0) { self.w2 = w2 }

    /// The inline key of `id`; nil when it is longer than 23 bytes.
    init?(inline id: String) {
        let utf8 = id.utf8
        guard utf8.count <= Self.inlineCapacity else { return nil }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            var i = 0
            for byte in utf8 {
                raw[i] = byte
                i += 1
            }
        }
        w0 = UInt64(littleEndian: words.0)
        w1 = UInt64(littleEndian: words.1)
        w2 = UInt64(littleEndian: words.2) | UInt64(utf8.count) << 56
    }

    var isLong: Bool { w2 == Self.longMark }

    /// The inline id's byte count (0 for the free slot's and the long key).
    private var length: Int {
        let n = Int(w2 >> 56)
        return n <= Self.inlineCapacity ? n : 0
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(w0)
        hasher.combine(w1)
        hasher.combine(w2)
    }

    /// The inline id's UTF-8 bytes, without making a String (a String past
    /// 15 bytes is a heap object: one allocation per socket of a large answer).
    func withInlineUTF8<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var words = (w0.littleEndian, w1.littleEndian, (w2 & ~(0xFF << 56)).littleEndian)
        let n = length
        return withUnsafeBytes(of: &words) { raw in body(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
    }

    var inlineString: String {
        withInlineUTF8 { String(decoding: $0, as: UTF8.self) }
    }
}
