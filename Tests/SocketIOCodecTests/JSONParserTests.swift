import SocketIOCodec
import Testing

private func parse(_ text: String, maxDepth: Int = 64) throws(CodecError) -> JSValue {
    try JSONParser(maxDepth: maxDepth).parse(Array(text.utf8))
}

/// The error offset for `bytes`, or nil when they parse.
private func errorOffset(_ bytes: [UInt8], maxDepth: Int = 64) -> Int?? {
    do {
        _ = try JSONParser(maxDepth: maxDepth).parse(bytes)
        return nil
    } catch {
        #expect(error.code == .malformedJSON)
        return .some(error.offset)
    }
}

@Suite struct JSONParserTests {
    @Test(arguments: [
        ("null", JSValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .number(0)),
        ("-12", .number(-12)),
        ("1.5", .number(1.5)),
        ("1E5", .number(100000)),
        ("1e-5", .number(0.00001)),
        ("-1e+05", .number(-100000)),
        ("0.1e1", .number(1)),
        ("123456789012345678901234567890", .number(1.2345678901234568e29)),
        ("9007199254740993", .number(9007199254740992)),
        ("2.2250738585072011e-308", .number(Double(bitPattern: 0x000F_FFFF_FFFF_FFFF))),
        ("1e400", .number(.infinity)),
        ("-1e400", .number(-.infinity)),
        ("1e-400", .number(0)),
        (#""""#, .string("")),
        (#""a\"b\\c\/d""#, .string("a\"b\\c/d")),
        (#""\b\f\n\r\t""#, .string("\u{08}\u{0C}\n\r\t")),
        (#""\u00e9\u00C9\u0041""#, .string("éÉA")),
        (#""\ud83d\ude00""#, .string("😀")),
        (#""\uD83D\uDE00x""#, .string("😀x")),
        ("\"é😀\u{7F}\u{2028}\"", .string("é😀\u{7F}\u{2028}")),
        // Lone surrogates become U+FFFD; the character after them is kept.
        (#""\ud800""#, .string("\u{FFFD}")),
        (#""\udc00\ud800""#, .string("\u{FFFD}\u{FFFD}")),
        (#""\ud800\u0041""#, .string("\u{FFFD}A")),
        (#""\ud800x""#, .string("\u{FFFD}x")),
        (#""\ud800\ud83d\ude00""#, .string("\u{FFFD}😀")),
        ("[]", .array([])),
        ("{}", .object(JSObject())),
        (" \t\r\n[ 1 , [ ] , { } ] \n", .array([.number(1), .array([]), .object(JSObject())])),
        (
            #"{"a" : [true, null], "b":{"c":"d"}}"#,
            .object(
                JSObject([
                    ("a", .array([.bool(true), .null])), ("b", .object(JSObject([("c", .string("d"))]))),
                ])
            )
        ),
    ])
    func accepts(_ text: String, _ expected: JSValue) throws {
        #expect(try parse(text) == expected)
    }

    @Test func negativeZeroKeepsItsSign() throws {
        for text in ["-0", "-0.0e-0", "-0e5"] {
            let number = try #require(try parse(text).numberValue)
            #expect(number == 0 && number.sign == .minus, "\(text)")
        }
    }

    /// Object.keys order of what V8's JSON.parse builds: later duplicates
    /// overwrite in the first place; integer keys come first; "__proto__" is
    /// an own property.
    @Test(arguments: [
        (#"{"a":1,"b":2,"a":3}"#, ["a", "b"], [3.0, 2]),
        (
            #"{"b":1,"2":2,"1":3,"01":4,"4294967295":5,"4294967294":6}"#,
            ["1", "2", "4294967294", "b", "01", "4294967295"], [3.0, 2, 6, 1, 4, 5]
        ),
        (#"{"__proto__":1,"x":2}"#, ["__proto__", "x"], [1.0, 2]),
    ])
    func objectKeys(_ text: String, _ keys: [String], _ values: [Double]) throws {
        let object = try #require(try parse(text).objectValue)
        #expect(object.properties.map(\.key) == keys)
        #expect(object.properties.map(\.value.numberValue) == values)
    }

    /// Rejected inputs and where; offsets are the positions V8 reports for them
    /// (node -e 'JSON.parse(...)'), the input length for "Unexpected end".
    @Test(arguments: [
        ("", 0), (" ", 1), ("[", 1), ("[1", 2), ("[1,", 3), ("[1,]", 3), ("{", 1), (#"{"a""#, 4),
        (#"{"a":"#, 5), (#"{"a":1"#, 6), (#"{"a":1,}"#, 7), ("{a:1}", 1), (#"{"a" 1}"#, 5), ("01", 1),
        ("-", 1), ("-a", 1), ("1.", 2), ("1.e5", 2), ("1e", 2), ("1e+", 3), ("+1", 0), (".5", 0),
        ("NaN", 0), ("tru", 3), ("truex", 4), ("trux", 3), ("nulL", 3), ("[tru]", 4), (#""abc"#, 4),
        (#""a\x""#, 3), (#""a\u12""#, 6), (#""a\u12g4""#, 6), (#""\u12"#, 5), (#""\U0041""#, 2),
        ("\"\t\"", 1), ("\"a\u{0}\"", 2), ("1 2", 2), ("[1]]", 3), (#""\"#, 2), ("[1 2]", 3),
        (#"{"a":1 "b":2}"#, 7), ("\u{A0}1", 0), ("[01]", 2), ("-01", 2), ("1.5e", 4), (#"{"a":1}x"#, 7),
        ("/*c*/1", 0), ("'a'", 0), ("\u{FEFF}1", 0), ("{,}", 1), ("[,1]", 1), ("[1,,2]", 3),
        ("true false", 5), ("1e5.5", 3), ("0x10", 1), ("\u{0B}1", 0), ("1ee5", 2), ("[1e]", 3),
        (#"{"a":}"#, 5), (#"{"a",1}"#, 4), ("{1:1}", 1), (#"{"a":1]"#, 6), ("[1}", 2), (#"{"a"::1}"#, 5),
        ("[-]", 2), ("-.5", 1), ("0.", 2), ("00", 1), (#"{"a":1,,}"#, 7),
    ])
    func rejects(_ text: String, _ offset: Int) {
        #expect(errorOffset(Array(text.utf8)) == .some(offset))
    }

    /// Ill-formed UTF-8 is refused at the first byte of the bad sequence.
    @Test(
        arguments: [
            ([0x22, 0xC0, 0x80, 0x22], 1),  // overlong NUL
            ([0x22, 0xC1, 0xBF, 0x22], 1),  // overlong
            ([0x22, 0x61, 0xE0, 0x80, 0x80, 0x22], 2),  // overlong 3-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // UTF-8 encoded surrogate
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // above U+10FFFF
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1),
            ([0x22, 0x80, 0x22], 1),  // lone continuation byte
            ([0x22, 0xE2, 0x82, 0x22], 1),  // truncated before the quote
            ([0x22, 0xE2, 0x82], 1),  // truncated at the end
            ([0x22, 0x5C, 0x6E, 0xFF, 0x22], 3),  // after an escape
            ([0xFF], 0),
            ([0x5B, 0xC3, 0xA9, 0x5D], 1),  // well-formed, but not JSON outside a string
        ] as [([UInt8], Int)]
    )
    func rejectsInvalidUTF8(_ bytes: [UInt8], _ offset: Int) {
        #expect(errorOffset(bytes) == .some(offset))
    }

    @Test func acceptsEveryWellFormedUTF8Length() throws {
        let text = "\u{7F}\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}\u{10FFFF}"
        #expect(try parse("\"\(text)\"") == .string(text))
    }

    @Test(arguments: ["[", "{\"a\":"])
    func depthBombIsRefused(_ opener: String) {
        let bomb = Array(String(repeating: opener, count: 100_000).utf8)
        // The 65th opener is the first one too deep.
        #expect(errorOffset(bomb) == .some(64 * opener.utf8.count))
    }

    @Test func depthLimitIsExact() throws {
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(errorOffset(Array(deepest.utf8)) == nil)
        #expect(errorOffset(Array(("[" + deepest + "]").utf8)) == .some(64))
        #expect(errorOffset(Array(#"[{"a":[1]}]"#.utf8), maxDepth: 2) == .some(6))
        #expect(errorOffset(Array(#"[{"a":1}]"#.utf8), maxDepth: 2) == nil)
        #expect(errorOffset(Array("1".utf8), maxDepth: 0) == nil)
        #expect(errorOffset(Array("[]".utf8), maxDepth: 0) == .some(0))
    }

    /// JSON.parse of the text Node.js wrote for each double gives the double back.
    @Test(arguments: try NodeNumberString.fixture().filter { $0.json != "null" })
    func readsNodeNumbers(_ entry: NodeNumberString) throws {
        let expected = try #require(entry.value)
        #expect(try parse(entry.json) == .number(expected))
        #expect(try parse(entry.text) == .number(expected))
    }

    /// JSON.parse of Node's JSON.stringify output rebuilds the described value,
    /// for values that survive JSON (no undefined, binary, dates, NaN or -0).
    @Test(arguments: try NodeStringifyCase.fixture().filter { $0.json != nil && survivesJSON($0.value.value) })
    func readsNodeJSON(_ entry: NodeStringifyCase) throws {
        let json = try #require(entry.json)
        #expect(try parse(json) == entry.value.value)
    }

    @Test(arguments: [
        JSValue.array([.string("findSocket"), .object(JSObject([("hello", .string("world")), ("n", .number(1))]))]),
        .string("\u{0}\u{1F}\"\\/\u{7F}\u{2028}😀é\r\n\t"),
        .array([.number(0.1), .number(1e21), .number(-1.5e-7), .number(5e-300), .number(9007199254740991)]),
        .object(JSObject([("b", .bool(false)), ("10", .null), ("2", .array([])), ("", .object(JSObject()))])),
        .array(Array(repeating: .array([.array([.string("deep")])]), count: 3)),
    ])
    func roundTrips(_ value: JSValue) throws {
        let text = try #require(JSONStringifier.string(value))
        #expect(try parse(text) == value)
    }
}

/// True when JSON.stringify then JSON.parse gives `value` back unchanged.
private func survivesJSON(_ value: JSValue) -> Bool {
    switch value {
    case .undefined, .buffer, .arrayBuffer, .date: return false
    case .number(let number): return number.isFinite && !(number == 0 && number.sign == .minus)
    case .array(let elements): return elements.allSatisfy(survivesJSON)
    case .object(let object): return object.properties.allSatisfy { survivesJSON($0.value) }
    case .null, .bool, .string: return true
    }
}
