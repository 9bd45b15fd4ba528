import SocketIOCodec
import Testing

/// JSONSkim reads what Redis and the node send: hostile input is refused
/// (false, or nil for `member`), never a crash or a hang, and the refusal
/// is the parser's (JSONParser throws malformedJSON for the same bytes).
@Suite("JSONSkim on hostile input")
struct JSONSkimHostileTests {
    /// Refused by the skim, by `member` and by the parser, with its error.
    private func expectRefused(
        _ bytes: [UInt8],
        _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(!JSONSkim().isValid(bytes), comment, sourceLocation: sourceLocation)
        #expect(JSONSkim().member("sockets", of: bytes) == nil, comment, sourceLocation: sourceLocation)
        #expect(!JSONSkim().isArray(bytes), comment, sourceLocation: sourceLocation)
        #expect(throws: CodecError.self, comment, sourceLocation: sourceLocation) { try JSONParser().parse(bytes) }
    }

    private func expectAccepted(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(JSONSkim().isValid(bytes), sourceLocation: sourceLocation)
        #expect((try? JSONParser().parse(bytes)) != nil, sourceLocation: sourceLocation)
    }

    @Test func deepNestingIsRefusedWithoutRecursion() {
        // 100k levels would overflow a recursive reader's stack.
        for open in ["[", "{\"a\":"] {
            let deep = Array(String(repeating: open, count: 100_000).utf8)
            expectRefused(deep, "unclosed \(open)")
        }
        let closed = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        expectRefused(closed, "closed but too deep")
        // Deep inside the member busd looks for.
        let inMember = Array(
            (#"{"sockets":"# + String(repeating: "[", count: 65) + String(repeating: "]", count: 65) + "}").utf8
        )
        expectRefused(inMember)
        // The limit itself is accepted (64 levels, as the parser).
        let atLimit = Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)
        expectAccepted(atLimit)
        #expect(!JSONSkim(maxDepth: 0).isValid(Array("[]".utf8)))
        #expect(JSONSkim(maxDepth: 0).isValid(Array("1".utf8)))
    }

    @Test func hugeNumbersAreSkimmedAsTheParserReadsThem() {
        let digits = String(repeating: "9", count: 200_000)
        for text in [
            digits, "-" + digits, "0." + digits, "1e" + digits, "-1E-" + digits, "1e999999", "[" + digits + "]",
        ] {
            expectAccepted(Array(text.utf8))
        }
        let member = JSONSkim().member("sockets", of: Array((#"{"sockets":"# + digits + "}").utf8))
        #expect(member == .some(11..<(11 + digits.utf8.count)))
        for text in ["0" + digits, "-" + "." + digits, digits + ".", digits + "e", digits + "e+", "+1", "1.e5", "--1"] {
            expectRefused(Array(text.utf8), "\(text.prefix(12))")
        }
    }

    @Test func truncatedEscapesAreRefused() {
        for text in [#""\"#, #""\u"#, #""\u1"#, #""\u12"#, #""\u123"#, #""\u123""#, #""\u12G4""#, #""\x41""#, #""\"#] {
            expectRefused(Array(text.utf8), "\(text)")
        }
        // The same escapes cut at the end of a member busd looks for.
        expectRefused(Array(#"{"sockets":["\u00"#.utf8))
        expectRefused(Array(#"{"sock\"#.utf8))
        expectAccepted(Array(#""\u0000 \uDBFF\uDFFF \uD800""#.utf8))
    }

    @Test func invalidUTF8IsRefusedWherever() {
        let invalid: [[UInt8]] = [
            [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFE], [0xFF],
            // Cut short: the sequence runs past the closing quote or the end.
            [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        ]
        for sequence in invalid {
            expectRefused([0x22] + sequence + [0x22], "in a string: \(sequence)")
            expectRefused([0x22] + sequence, "at the end: \(sequence)")
            expectRefused(Array(#"{"sockets":[""#.utf8) + sequence + Array(#""]}"#.utf8), "in the member: \(sequence)")
            expectRefused(Array(#"{""#.utf8) + sequence + Array(#"":1}"#.utf8), "in a name: \(sequence)")
            // Outside strings no byte past ASCII is JSON.
            expectRefused(sequence + Array("1".utf8), "bare: \(sequence)")
        }
        expectAccepted([0x22, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xF4, 0x8F, 0xBF, 0xBF, 0x22])
    }

    @Test func nulBytesAreRefused() {
        for bytes: [UInt8] in [
            [0], [0x22, 0, 0x22], [0x5B, 0x31, 0, 0x5D], [0x31, 0], [0, 0x31], Array(#"{"a":1}"#.utf8) + [0],
        ] {
            expectRefused(bytes, "\(bytes)")
        }
        expectRefused(Array(#"{"sockets":["#.utf8) + [0] + Array("]}".utf8))
    }

    @Test func everyCutOfAnAnswerIsRefused() {
        // Each proper prefix of an answer is what a cut connection leaves.
        let answer = Array(
            #"{"requestId":"a1","sockets":[{"id":"é\u00e9","data":{"n":-1.5e+3,"b":[true,false,null]}}]}"#.utf8
        )
        #expect(JSONSkim().member("sockets", of: answer) != nil)
        for end in 0..<answer.count {
            expectRefused(Array(answer[0..<end]), "cut at \(end)")
        }
    }
}
