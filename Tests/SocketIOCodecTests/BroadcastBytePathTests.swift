import SocketIOCodec
import Testing

/// The byte path (one pass over the payload) must give exactly what the
/// tree path gives, and the tree path is held equal to the general decoder
/// by BroadcastDecoderTests; each case here also says which path it takes.
@Suite("Broadcast byte path")
struct BroadcastBytePathTests {
    /// Minimal msgpack writing for the cases (the exact formats matter).
    enum M {
        static func str(_ s: String) -> [UInt8] {
            let b = Array(s.utf8)
            precondition(b.count < 256)
            return b.count < 32 ? [0xa0 | UInt8(b.count)] + b : [0xd9, UInt8(b.count)] + b
        }
        static func map(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
            precondition(pairs.count < 16)
            return [0x80 | UInt8(pairs.count)] + pairs.flatMap { $0.0 + $0.1 }
        }
        static func bigMap(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
            [0xde, UInt8(pairs.count >> 8), UInt8(pairs.count & 0xff)] + pairs.flatMap { $0.0 + $0.1 }
        }
        static func arr(_ items: [[UInt8]]) -> [UInt8] {
            precondition(items.count < 16)
            return [0x90 | UInt8(items.count)] + items.flatMap { $0 }
        }
        static let emptyOptions = map([(str("rooms"), arr([])), (str("except"), arr([])), (str("flags"), map([]))])
        /// [uid, {type, data, nsp}, options]
        static func broadcast(
            type: [UInt8] = [0x02],
            data: [UInt8],
            nsp: String = "/",
            extra: [([UInt8], [UInt8])] = [],
            options: [UInt8] = emptyOptions
        ) -> [UInt8] {
            arr([str("emitter"), map([(str("type"), type), (str("data"), data), (str("nsp"), str(nsp))] + extra), options])
        }
        static func event(_ args: [UInt8]...) -> [UInt8] { arr([str("ev")] + args) }
    }

    enum Path: String, Sendable { case bytes, tree, general, error }

    static let cases: [(String, [UInt8], Path)] = [
        ("string and object", M.broadcast(data: M.event(M.map([(M.str("a"), [0x01]), (M.str("b"), M.str("x"))]))), .bytes),
        ("type as a signed int8", M.broadcast(type: [0xd0, 0x02], data: M.event()), .bytes),
        ("type as a uint16", M.broadcast(type: [0xcd, 0x00, 0x03], data: M.event()), .bytes),
        ("type 5 goes the general way", M.broadcast(type: [0x05], data: M.event()), .general),
        ("negative type", M.broadcast(type: [0xff], data: M.event()), .general),
        ("integers of every width", M.broadcast(data: M.event(
            [0x7f], [0xe0], [0xcc, 0xff], [0xcd, 0xff, 0xff], [0xce, 0xff, 0xff, 0xff, 0xff],
            [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0xd0, 0x80], [0xd1, 0x80, 0x00],
            [0xd2, 0x80, 0, 0, 0], [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], [0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 1],
            [0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0], [0xd1, 0x00, 0x05])), .bytes),
        ("floats", M.broadcast(data: M.event(
            [0xca, 0x3f, 0xc0, 0, 0], [0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18],
            [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], [0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0], [0xca, 0x7f, 0x80, 0, 0])), .bytes),
        ("nil, booleans, nested arrays", M.broadcast(data: M.event([0xc0], [0xc2], [0xc3], M.arr([M.arr([]), M.map([])]))), .bytes),
        ("escapes and non-ASCII", M.broadcast(data: M.event(M.str("q\"b\\n\n\t\u{1}é€😀\u{7f}\u{2028}"))), .bytes),
        ("long string", M.broadcast(data: M.event(M.str(String(repeating: "abcdefgh", count: 20)))), .bytes),
        ("binary: attachments", M.broadcast(data: M.event([0xc4, 0x02, 0xde, 0xad], M.map([(M.str("b"), [0xc4, 0x00])]))), .bytes),
        ("binary of type 3", M.broadcast(type: [0x03], data: M.arr([[0xc4, 0x01, 0x07]])), .bytes),
        ("empty key", M.broadcast(data: M.event(M.map([(M.str(""), [0x01])]))), .bytes),
        ("key starting with a digit", M.broadcast(data: M.event(M.map([(M.str("1a"), [0x01])]))), .general),
        ("repeated key", M.broadcast(data: M.event(M.map([(M.str("a"), [0x01]), (M.str("b"), [0x02]), (M.str("a"), [0x03])]))), .general),
        ("__proto__ key", M.broadcast(data: M.event(M.map([(M.str("__proto__"), [0x01])]))), .general),
        ("integer key", M.broadcast(data: M.event(M.map([([0x01], [0x01])]))), .general),
        ("33 keys", M.broadcast(data: M.event(M.bigMap((0..<33).map { (M.str("k\($0)"), [0x01]) }))), .general),
        ("32 keys", M.broadcast(data: M.event(M.bigMap((0..<32).map { (M.str("k\($0)"), [0x01]) }))), .bytes),
        ("ext in data", M.broadcast(data: M.event([0xd4, 0x00, 0x00])), .general),
        ("ext in an ignored packet key", M.broadcast(data: M.event(), extra: [(M.str("x"), [0xc7, 0x01, 0x05, 0x00])]), .bytes),
        ("__proto__ packet key", M.broadcast(data: M.event(), extra: [(M.str("__proto__"), [0x01])]), .general),
        ("id", M.broadcast(data: M.event(), extra: [(M.str("id"), [0xcd, 0x01, 0x00])]), .bytes),
        ("id not a uint", M.broadcast(data: M.event(), extra: [(M.str("id"), M.str("7"))]), .general),
        ("namespace and id", M.broadcast(data: M.event(), nsp: "/admin", extra: [(M.str("id"), [0x07])]), .bytes),
        ("empty namespace", M.broadcast(data: M.event(), nsp: ""), .bytes),
        ("repeated namespace", M.broadcast(data: M.event(), extra: [(M.str("nsp"), M.str("/b"))]), .bytes),
        ("repeated type", M.broadcast(data: M.event(), extra: [(M.str("type"), [0x02])]), .general),
        ("repeated data", M.broadcast(data: M.event(), extra: [(M.str("data"), [0x02])]), .general),
        ("nil data", M.broadcast(data: [0xc0]), .bytes),
        ("no data", M.arr([M.str("u"), M.map([(M.str("type"), [0x02])]), M.map([])]), .bytes),
        ("data not an array", M.broadcast(data: M.str("x")), .bytes),
        ("rooms and except of every kind", M.broadcast(data: M.event(), options: M.map([
            (M.str("rooms"), M.arr([M.str("r1"), [0x05], [0xff], [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], M.str("room-with-a-long-name-over-32-bytes")])),
            (M.str("except"), M.arr([M.str("x"), [0xca, 0x3f, 0xc0, 0, 0]])),
        ])), .bytes),
        ("room of a bad kind", M.broadcast(data: M.event(), options: M.map([(M.str("rooms"), M.arr([[0xc3]]))])), .error),
        ("rooms twice", M.broadcast(data: M.event(), options: M.map([(M.str("rooms"), M.arr([M.str("a")])), (M.str("rooms"), M.arr([M.str("b")]))])), .bytes),
        ("flags", M.broadcast(data: M.event(), options: M.map([(M.str("flags"), M.map([(M.str("volatile"), [0xc3]), (M.str("compress"), [0xc2])]))])), .bytes),
        ("flags not booleans", M.broadcast(data: M.event(), options: M.map([(M.str("flags"), M.map([(M.str("volatile"), [0x01]), (M.str("compress"), M.map([(M.str("a"), [0x01])])), ([0x01], M.arr([]))]))])), .bytes),
        ("two flags maps", M.broadcast(data: M.event(), options: M.map([
            (M.str("flags"), M.map([(M.str("volatile"), [0xc3]), (M.str("compress"), [0xc3])])),
            (M.str("flags"), M.map([(M.str("compress"), [0xc2])])),
        ])), .bytes),
        ("flags not a map", M.broadcast(data: M.event(), options: M.map([(M.str("flags"), M.arr([]))])), .error),
        ("socketbus options", M.broadcast(data: M.event(), options: M.map([(M.str("socketbus"), M.map([(M.str("ack"), [0xc3])]))])), .tree),
        ("unknown option", M.broadcast(data: M.event(), options: M.map([(M.str("other"), M.map([(M.str("a"), M.arr([[0xc0]]))]))])), .bytes),
        ("option with an integer key", M.broadcast(data: M.event(), options: M.map([([0x01], [0x01])])), .general),
        ("keys as str8", M.arr([M.str("u"), [0x82, 0xd9, 0x04] + Array("type".utf8) + [0x02, 0xd9, 0x03] + Array("nsp".utf8) + M.str("/a"),
            [0x81, 0xd9, 0x05] + Array("rooms".utf8) + M.arr([M.str("r")])]), .bytes),
        ("keys that start like known ones", M.broadcast(data: M.event(), extra: [(M.str("types"), [0x05]), (M.str("ids"), [0x05]), (M.str("dat"), [0x05])],
            options: M.map([(M.str("roomsX"), M.arr([M.str("r")])), (M.str("flag"), [0xc3]), (M.str("excepts"), [0x01])])), .bytes),
        ("keys in the last bytes", M.arr([M.str("u"), M.map([(M.str("type"), [0x02])]), M.map([(M.str("id"), [0x01]), (M.str("except"), M.arr([]))])]), .bytes),
        ("nesting at the limit", M.broadcast(data: [UInt8](repeating: 0x91, count: 29) + [0x01]), .bytes),
        ("nesting past the limit", M.broadcast(data: [UInt8](repeating: 0x91, count: 31) + [0x01]), .error),
        ("trailing bytes", M.broadcast(data: M.event()) + [0x00], .error),
        ("truncated", Array(M.broadcast(data: M.event(M.str("abcdef"))).dropLast(12)), .error),
        ("invalid UTF-8 in an ignored key's value", M.broadcast(data: M.event(), extra: [(M.str("x"), [0xa2, 0xc3, 0x28])]), .error),
        ("invalid UTF-8 in data", M.broadcast(data: M.event([0xa1, 0xff])), .error),
        ("0xc1 in data", M.broadcast(data: M.event([0xc1])), .error),
        ("truncated ext", M.broadcast(data: M.event(), extra: [(M.str("x"), [0xd8, 0x01])]), .error),
        ("huge array count", M.broadcast(data: [0xdd, 0x7f, 0xff, 0xff, 0xff]), .error),
    ]

    @Test(arguments: cases)
    func bytePathEqualsTreePath(_ name: String, _ payload: [UInt8], _ path: Path) throws {
        let bytes = BroadcastDecoder()
        let tree = BroadcastDecoder(decodesBytes: false)
        var viaBytes = BroadcastDelivery()
        var viaTree = BroadcastDelivery()
        var treeError: CodecError?
        var byteError: CodecError?
        do { try tree.decode(payload, into: &viaTree) } catch { treeError = error }
        do { try bytes.decode(payload, into: &viaBytes) } catch { byteError = error }
        if path == .error {
            #expect(byteError != nil && treeError != nil, "\(name)")
            #expect(byteError?.code == treeError?.code, "\(name)")
            return
        }
        #expect(byteError == nil && treeError == nil, "\(name): \(String(describing: byteError))")
        let taken: Path = viaBytes.usedByteDecoder ? .bytes : viaBytes.usedGeneralPath ? .general : .tree
        #expect(taken == path, "\(name)")
        #expect(viaBytes.packet == viaTree.packet, "\(name): \(String(decoding: viaBytes.packet, as: UTF8.self)) vs \(String(decoding: viaTree.packet, as: UTF8.self))")
        #expect(viaBytes.attachments == viaTree.attachments, "\(name)")
        #expect(viaBytes.uid == viaTree.uid, "\(name)")
        #expect(viaBytes.namespace == viaTree.namespace, "\(name)")
        #expect(viaBytes.rooms == viaTree.rooms, "\(name)")
        #expect(viaBytes.except == viaTree.except, "\(name)")
        #expect(viaBytes.isVolatile == viaTree.isVolatile, "\(name)")
        #expect(viaBytes.compress == viaTree.compress, "\(name)")
        #expect(viaBytes.existingAckId == viaTree.existingAckId, "\(name)")
        #expect(viaBytes.request == viaTree.request, "\(name)")
    }
}
