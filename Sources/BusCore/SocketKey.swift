/// A socket id packed inline (no heap allocation) when it fits 24 bytes,
/// which every socket.io 3+ id (20 characters) does; longer ids (socket.io
/// 2.x's `<nsp>#<engine id>` outside "/") keep a String.
///
/// This is what keeps the registry near 100 bytes per socket at a million
/// sockets: a dictionary of Strings would cost a heap object per key.
struct SocketKey: Hashable, Sendable {
    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0
    /// Byte count for inline ids; 255 when the id lives in `overflow`.
    private var length: UInt8 = 0
    private var overflow: String?

    init(_ id: String) {
        let utf8 = id.utf8
        guard utf8.count <= 24 else {
            length = 255
            overflow = id
            return
        }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            var i = 0
            for byte in utf8 {
                raw[i] = byte
                i += 1
            }
        }
        (w0, w1, w2) = words
        length = UInt8(utf8.count)
    }

    /// The id's UTF-8 bytes, without making a String (inline ids need a heap
    /// String past 15 bytes: one allocation per socket of a large answer).
    func withUTF8<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if var overflow { return overflow.withUTF8 { body(UnsafeRawBufferPointer($0)) } }
        var words = (w0, w1, w2)
        let n = Int(length)
        return withUnsafeBytes(of: &words) { raw in body(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
    }

    var string: String {
        if let overflow { return overflow }
        var words = (w0, w1, w2)
        let n = Int(length)
        return withUnsafeBytes(of: &words) { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<n]), as: UTF8.self)
        }
    }
}
