import Testing

@testable import SocketIOCodec

/// The byte path matches common keys as one word: header byte and key bytes.
@Suite("Broadcast byte path: key words")
struct BroadcastKeyWordTests {
    static func word(_ key: String) -> (UInt64, UInt64) {
        let bytes = [0xa0 | UInt8(key.utf8.count)] + Array(key.utf8)
        var word: UInt64 = 0
        for (i, b) in bytes.enumerated() { word |= UInt64(b) << (8 * UInt64(i)) }
        return (word, (1 << (8 * UInt64(bytes.count))) - 1)
    }

    @Test func wordsAreTheKeysAsFixstr() {
        typealias C = MsgPackCursor
        #expect(Self.word("type") == (C.typeWord, C.mask5))
        #expect(Self.word("data") == (C.dataWord, C.mask5))
        #expect(Self.word("nsp") == (C.nspWord, C.mask4))
        #expect(Self.word("id") == (C.idWord, C.mask3))
        #expect(Self.word("rooms") == (C.roomsWord, C.mask6))
        #expect(Self.word("flags") == (C.flagsWord, C.mask6))
        #expect(Self.word("except") == (C.exceptWord, C.mask7))
    }
}
