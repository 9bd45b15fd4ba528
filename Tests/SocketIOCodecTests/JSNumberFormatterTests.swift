import Foundation
import SocketIOCodec
import Testing

/// One line of Fixtures/js-number-strings.json, written by node/gen-number-strings.js.
struct NodeNumberString: Decodable, Sendable, CustomTestStringConvertible {
    let bits: String
    let text: String
    let json: String

    var value: Double? { UInt64(bits, radix: 16).map(Double.init(bitPattern:)) }
    var testDescription: String { "\(bits) -> \(text)" }

    /// The fixture, read with Foundation's decoder so the codec under test is not involved.
    static func fixture() throws -> [NodeNumberString] {
        let url = try #require(
            Bundle.module.url(forResource: "js-number-strings", withExtension: "json", subdirectory: "Fixtures")
        )
        return try JSONDecoder().decode([NodeNumberString].self, from: Data(contentsOf: url))
    }
}

@Suite struct JSNumberFormatterTests {
    @Test func fixtureIsLarge() throws {
        #expect(try NodeNumberString.fixture().count > 1500)
    }

    /// Node.js output for ~2000 doubles: String(x) and JSON.stringify(x).
    @Test(arguments: try NodeNumberString.fixture())
    func matchesNode(_ entry: NodeNumberString) throws {
        let value = try #require(entry.value)
        #expect(JSNumberFormatter.string(value) == entry.text)
        var output: [UInt8] = Array("x".utf8)
        JSNumberFormatter.appendJSON(value, to: &output)
        #expect(String(decoding: output, as: UTF8.self) == "x" + entry.json)
    }

    /// The examples of the ECMA-262 Number::toString layout rules.
    @Test(
        arguments: [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (1.2345678901234568e20, "123456789012345680000"),
            (Double.leastNonzeroMagnitude, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "0"),
            (9007199254740992, "9007199254740992"),
            (9007199254740991, "9007199254740991"),
            (-9007199254740991, "-9007199254740991"),
            (1e-7, "1e-7"),
            (100, "100"),
            (-1.5, "-1.5"),
            (123.456, "123.456"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.0001, "0.0001"),
            (1e16, "10000000000000000"),
            (1.2345e21, "1.2345e+21"),
            (-1.5e-9, "-1.5e-9"),
        ] as [(Double, String)]
    )
    func specExamples(_ value: Double, _ expected: String) {
        #expect(JSNumberFormatter.string(value) == expected)
    }

    @Test(
        arguments: [
            (Double.nan, "NaN", "null"),
            (Double.infinity, "Infinity", "null"),
            (-Double.infinity, "-Infinity", "null"),
        ] as [(Double, String, String)]
    )
    func nonFinite(_ value: Double, _ text: String, _ json: String) {
        #expect(JSNumberFormatter.string(value) == text)
        var output: [UInt8] = []
        JSNumberFormatter.appendJSON(value, to: &output)
        #expect(output == Array(json.utf8))
    }
}
