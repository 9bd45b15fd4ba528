import MsgPack
import Testing

@Suite("MsgPack reader")
struct MsgPackReaderTests {
    static let wellFormed: [(String, [UInt8], MsgPackValue)] = [
        ("positive fixint", [0x2a], .uint(42)),
        ("negative fixint", [0xff], .int(-1)),
        ("uint 64", [0xcf, 0, 0, 0, 1, 0x2a, 0x05, 0xf2, 0x00], .uint(5_000_000_000)),
        ("int 16", [0xd1, 0xff, 0x38], .int(-200)),
        ("float 32", [0xca, 0x3f, 0xc0, 0, 0], .float32(1.5)),
        ("float 64", [0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], .float64(1.5)),
        ("nil true false", [0x93, 0xc0, 0xc3, 0xc2], .array([.nil, .bool(true), .bool(false)])),
        ("fixstr", [0xa2, 0x68, 0x69], .string("hi")),
        ("str 8 emoji", [0xd9, 0x04, 0xf0, 0x9f, 0x91, 0x8b], .string("👋")),
        ("bin 8", [0xc4, 0x02, 0xde, 0xad], .binary([0xde, 0xad])),
        ("empty bin", [0xc4, 0x00], .binary([])),
        ("fixext 1", [0xd4, 0x00, 0x00], .ext(type: 0, data: [0])),
        ("ext 8", [0xc7, 0x04, 0x00, 1, 2, 3, 4], .ext(type: 0, data: [1, 2, 3, 4])),
        ("timestamp 32", [0xd6, 0xff, 0x39, 0x45, 0x79, 0x80], .ext(type: -1, data: [0x39, 0x45, 0x79, 0x80])),
        (
            "map keeps order and repeats",
            [0x83, 0xa1, 0x62, 0x01, 0xa1, 0x61, 0x02, 0xa1, 0x62, 0x03],
            .map([
                MsgPackMapEntry(.string("b"), .uint(1)), MsgPackMapEntry(.string("a"), .uint(2)),
                MsgPackMapEntry(.string("b"), .uint(3)),
            ])
        ),
        ("non-string map key", [0x81, 0x01, 0xc0], .map([MsgPackMapEntry(.uint(1), .nil)])),
    ]

    @Test(arguments: wellFormed)
    func decodes(_ name: String, _ bytes: [UInt8], _ expected: MsgPackValue) throws {
        #expect(try MsgPackReader().decode(bytes) == expected, "\(name)")
    }

    static let malformed: [(String, [UInt8], MsgPackError.Code, Int)] = [
        ("empty", [], .truncated, 0),
        ("reserved byte", [0x92, 0x01, 0xc1], .invalidByte, 2),
        ("truncated str", [0xa5, 0x68, 0x69], .truncated, 0),
        ("truncated header", [0x91, 0xcd, 0x01], .truncated, 1),
        ("array 32 announcing 4 billion", [0xdd, 0xff, 0xff, 0xff, 0xff], .tooLarge, 0),
        ("array 16 longer than the payload", [0xdc, 0x00, 0x05, 0x01, 0x02], .tooLarge, 0),
        ("map 32 announcing 16 million", [0xdf, 0x00, 0xff, 0xff, 0xff, 0x01], .tooLarge, 0),
        ("str 32 of 4 GiB", [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], .truncated, 0),
        ("bin 32 of 4 GiB", [0xc6, 0xff, 0xff, 0xff, 0xff], .truncated, 0),
        // Offsets name the first byte of the malformed sequence.
        ("invalid UTF-8", [0xa2, 0xc3, 0x28], .invalidUTF8, 1),
        ("overlong UTF-8", [0xa2, 0xc0, 0xaf], .invalidUTF8, 1),
        ("UTF-8 surrogate", [0xa3, 0xed, 0xa0, 0x80], .invalidUTF8, 1),
        ("UTF-8 cut", [0xa2, 0x61, 0xe2], .invalidUTF8, 2),
        ("invalid UTF-8 in a map key", [0x81, 0xa1, 0xff, 0x01], .invalidUTF8, 2),
        ("trailing bytes", [0x01, 0x02], .trailingBytes, 1),
    ]

    @Test(arguments: malformed)
    func refuses(_ name: String, _ bytes: [UInt8], _ code: MsgPackError.Code, _ offset: Int) {
        let error = #expect(throws: MsgPackError.self, "\(name)") { _ = try MsgPackReader().decode(bytes) }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
        #expect(error?.offset == offset, "\(name): \(String(describing: error))")
    }

    @Test func depthBombIsRefusedWithoutRecursion() {
        let deep = [UInt8](repeating: 0x91, count: 100_000) + [0x01]
        let error = #expect(throws: MsgPackError.self) { try MsgPackReader().decode(deep) }
        #expect(error?.code == .tooDeep)
        #expect(error?.offset == 32)
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let nested = [UInt8](repeating: 0x91, count: 32) + [0x01]
        var value = try MsgPackReader().decode(nested)
        var depth = 0
        while case .array(let inner) = value {
            depth += 1
            value = inner[0]
        }
        #expect(depth == 32)
        #expect(value == .uint(1))
    }

    @Test func payloadLargerThanTheLimitIsRefused() {
        let reader = MsgPackReader(limits: .init(maxBytes: 8))
        #expect(throws: MsgPackError.self) { try reader.decode([0xc4, 0x10] + [UInt8](repeating: 0, count: 16)) }
    }

    @Test func errorsLoseNothingElse() throws {
        // One reader, a bad payload between good ones: the zone is reset and
        // later payloads decode normally.
        let reader = MsgPackReader()
        #expect(try reader.decode([0xa1, 0x61]) == .string("a"))
        #expect(throws: MsgPackError.self) { try reader.decode([0xdd, 0xff, 0xff, 0xff, 0xff]) }
        #expect(try reader.decode([0x92, 0x01, 0xa1, 0x62]) == .array([.uint(1), .string("b")]))
    }

    @Test func viewReadsFieldsWithoutCopying() throws {
        // ["uid", {"nsp": "/chat"}]
        let bytes: [UInt8] = [0x92, 0xa3, 0x75, 0x69, 0x64, 0x81, 0xa3, 0x6e, 0x73, 0x70, 0xa5, 0x2f, 0x63, 0x68, 0x61, 0x74]
        let nsp: String? = try MsgPackReader().withObject(bytes) { root in
            #expect(root.kind == .array && root.count == 2)
            #expect(root[0].isString("uid"))
            #expect(!root[0].isString("ui"))
            let map = root[1]
            #expect(map.key(at: 0).isString("nsp"))
            #expect(map.value(at: 0).payloadOffset == 11)
            return map.value(at: 0).string
        }
        #expect(nsp == "/chat")
    }

    @Test func fixExtIsToldFromExt8() throws {
        let reader = MsgPackReader()
        try reader.withObject([0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0, 1]) { #expect($0.isFixExt) }
        try reader.withObject([0xc7, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 1]) { #expect(!$0.isFixExt) }
        // A length byte that looks like a fixext code does not fool it.
        try reader.withObject([0xc7, 0xd4] + [0x00] + [UInt8](repeating: 7, count: 0xd4)) { #expect(!$0.isFixExt) }
    }
}
