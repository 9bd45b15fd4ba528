import Foundation
import SocketIOCodec
import Testing

/// One case of Fixtures/js-stringify.json, written by node/gen-stringify.js.
struct NodeStringifyCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let value: DescribedValue
    /// JSON.stringify(value); nil when it returned undefined.
    let json: String?
    /// JSON.stringify after socket.io-parser's deconstructPacket.
    let placeholders: String?
    let attachments: [[UInt8]]

    var testDescription: String { name }

    /// The fixture, read with Foundation's decoder so the codec under test is not involved.
    static func fixture() throws -> [NodeStringifyCase] {
        let url = try #require(
            Bundle.module.url(forResource: "js-stringify", withExtension: "json", subdirectory: "Fixtures")
        )
        return try JSONDecoder().decode([NodeStringifyCase].self, from: Data(contentsOf: url))
    }
}

/// A JSValue rebuilt from the fixture's JSON-safe description (see gen-stringify.js).
struct DescribedValue: Decodable, Sendable {
    let value: JSValue

    private enum Key: String, CodingKey { case t, v, bits, ms, bytes, items, keys }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        switch try container.decode(String.self, forKey: .t) {
        case "undefined": value = .undefined
        case "null": value = .null
        case "bool": value = .bool(try container.decode(Bool.self, forKey: .v))
        case "string": value = .string(try container.decode(String.self, forKey: .v))
        case "number":
            let bits = try container.decode(String.self, forKey: .bits)
            value = .number(Double(bitPattern: try #require(UInt64(bits, radix: 16))))
        case "date": value = .date(try container.decodeIfPresent(Double.self, forKey: .ms) ?? .nan)
        case "buffer": value = .buffer(try container.decode([UInt8].self, forKey: .bytes))
        case "arraybuffer": value = .arrayBuffer(try container.decode([UInt8].self, forKey: .bytes))
        case "array": value = .array(try container.decode([DescribedValue].self, forKey: .items).map(\.value))
        case "object":
            let keys = try container.decode([String].self, forKey: .keys)
            let items = try container.decode([DescribedValue].self, forKey: .items)
            var object = JSObject()
            for (key, item) in zip(keys, items) { object[key] = item.value }
            value = .object(object)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .t, in: container, debugDescription: other)
        }
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct JSONStringifierTests {
    @Test func fixtureIsThere() throws {
        #expect(try NodeStringifyCase.fixture().count > 40)
    }

    /// Plain JSON.stringify in Node.js.
    @Test(arguments: try NodeStringifyCase.fixture())
    func matchesNodeJSON(_ entry: NodeStringifyCase) {
        #expect(JSONStringifier.string(entry.value.value, binary: .nodeJSON) == entry.json)
    }

    /// socket.io-parser 4.2.1 deconstructPacket, then JSON.stringify, in Node.js.
    @Test(arguments: try NodeStringifyCase.fixture())
    func matchesSocketIOParserPlaceholders(_ entry: NodeStringifyCase) {
        var stringifier = JSONStringifier(binary: .placeholders)
        var output: [UInt8] = []
        let written = stringifier.append(entry.value.value, to: &output)
        #expect(written == (entry.placeholders != nil))
        #expect(String(decoding: output, as: UTF8.self) == (entry.placeholders ?? ""))
        #expect(stringifier.attachments == entry.attachments)
    }

    /// QuoteJSONString: the short escapes, \u00XX in lowercase for other C0
    /// controls, everything else as raw UTF-8.
    @Test(arguments: [
        ("\"", #""\"""#),
        ("\\", #""\\""#),
        ("\u{08}\u{0C}\n\r\t", #""\b\f\n\r\t""#),
        ("\u{00}", #""\u0000""#),
        ("\u{1F}", #""\u001f""#),
        ("\u{0B}", #""\u000b""#),
        ("\u{1A}x", #""\u001ax""#),
        ("\u{7F}", "\"\u{7F}\""),
        ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
        ("/", #""/""#),
        ("é😀", "\"é😀\""),
        ("plain text", #""plain text""#),
        ("", #""""#),
    ])
    func escaping(_ string: String, _ expected: String) {
        #expect(JSONStringifier.string(.string(string)) == expected)
    }

    @Test func topLevelUndefinedAppendsNothing() {
        var stringifier = JSONStringifier(binary: .nodeJSON)
        var output = bytes("prefix")
        #expect(stringifier.append(.undefined, to: &output) == false)
        #expect(output == bytes("prefix"))
        #expect(stringifier.append(.null, to: &output))
        #expect(output == bytes("prefixnull"))
        #expect(JSONStringifier.string(.undefined) == nil)
    }

    @Test(arguments: [
        (JSValue.array([.undefined]), "[null]"),
        (.object(JSObject([("a", .undefined)])), "{}"),
        (.object(JSObject([("a", .undefined), ("b", .null), ("c", .undefined)])), #"{"b":null}"#),
        (.array([.object(JSObject([("x", .array([.undefined, .bool(true)]))]))]), #"[{"x":[null,true]}]"#),
    ])
    func undefinedMembers(_ value: JSValue, _ expected: String) {
        #expect(JSONStringifier.string(value) == expected)
    }

    @Test(arguments: [
        (JSValue.buffer([1, 2, 3]), #"{"type":"Buffer","data":[1,2,3]}"#),
        (.buffer([]), #"{"type":"Buffer","data":[]}"#),
        (.arrayBuffer([1, 2, 3]), "{}"),
        (.array([.buffer([255]), .arrayBuffer([])]), #"[{"type":"Buffer","data":[255]},{}]"#),
    ])
    func nodeJSONBinary(_ value: JSValue, _ expected: String) {
        var stringifier = JSONStringifier(binary: .nodeJSON)
        var output: [UInt8] = []
        stringifier.append(value, to: &output)
        #expect(String(decoding: output, as: UTF8.self) == expected)
        #expect(stringifier.attachments.isEmpty)
    }

    /// Numbers follow array index order, then object property order (integer keys first).
    @Test func placeholdersNumberInTraversalOrder() {
        let value = JSValue.array([
            .buffer([1]),
            .object(JSObject([("b", .arrayBuffer([2])), ("7", .array([.buffer([3]), .string("x")]))])),
            .buffer([4]),
        ])
        var stringifier = JSONStringifier(binary: .placeholders)
        var output: [UInt8] = []
        stringifier.append(value, to: &output)
        let expected =
            #"[{"_placeholder":true,"num":0},{"7":[{"_placeholder":true,"num":1},"x"],"#
            + #""b":{"_placeholder":true,"num":2}},{"_placeholder":true,"num":3}]"#
        #expect(String(decoding: output, as: UTF8.self) == expected)
        #expect(stringifier.attachments == [[1], [3], [2], [4]])

        // Numbering goes on in a second call on the same stringifier.
        output = []
        stringifier.append(.buffer([5]), to: &output)
        #expect(output == bytes(#"{"_placeholder":true,"num":4}"#))
        #expect(stringifier.attachments.count == 5)
    }

    @Test func scalarsAndContainers() {
        let value = JSValue.object(
            JSObject([
                ("s", .string("a")), ("n", .number(-1.5)), ("t", .bool(true)), ("f", .bool(false)),
                ("z", .null), ("e", .array([])), ("o", .object(JSObject())), ("nan", .number(.nan)),
            ])
        )
        let expected = #"{"s":"a","n":-1.5,"t":true,"f":false,"z":null,"e":[],"o":{},"nan":null}"#
        #expect(JSONStringifier.string(value) == expected)
    }

    /// Date.prototype.toISOString, values printed by Node.js 20.
    @Test(
        arguments: [
            (0, "1970-01-01T00:00:00.000Z"),
            (-62198755200000, "-000001-01-01T00:00:00.000Z"),
            (-62167219200000, "0000-01-01T00:00:00.000Z"),
            (253402300800000, "+010000-01-01T00:00:00.000Z"),
            (8.64e15, "+275760-09-13T00:00:00.000Z"),
            (-8.64e15, "-271821-04-20T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (1.5, "1970-01-01T00:00:00.001Z"),
            (-0.5, "1970-01-01T00:00:00.000Z"),
            (951782400000, "2000-02-29T00:00:00.000Z"),
            (-2208988800001, "1899-12-31T23:59:59.999Z"),
        ] as [(Double, String)]
    )
    func isoString(_ milliseconds: Double, _ expected: String) {
        #expect(JSDate.isoString(milliseconds: milliseconds) == expected)
        #expect(JSONStringifier.string(.date(milliseconds)) == "\"\(expected)\"")
    }

    @Test(arguments: [Double.nan, 8.64e15 + 1, -8.64e15 - 1, .infinity, -.infinity])
    func invalidDates(_ milliseconds: Double) {
        #expect(JSDate.isoString(milliseconds: milliseconds) == nil)
        #expect(JSONStringifier.string(.date(milliseconds)) == "null")
    }
}
