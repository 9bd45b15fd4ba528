import Foundation
import Testing
import TestSupport

/// `--log-format`: what a real busd writes, parsed back.
@Suite("busd log formats", .serialized)
struct LogFormatTests {
    /// A socket directory whose name needs every kind of quoting.
    static let awkwardName = "dir with \"quotes\" \\ ünï✓\nnext line"

    static func runBusd(format: String) throws -> (lines: [String], socketPath: String) {
        let server = try RedisTestServer()
        defer { server.stop() }
        let directory = server.directory.appendingPathComponent(awkwardName)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let socketPath = directory.appendingPathComponent("b.sock").path
        let busd = try CollectedBusd(arguments: [
            "--redis", server.url, "--node-id", "wéb-✓", "--socket", socketPath, "--http", "off",
            "--log-format", format, "--log-level", "info",
        ])
        #expect(eventually { busd.stderr.contains("busd started") })
        busd.stop()
        return (busd.lines, socketPath)
    }

    @Test func jsonIsOneObjectPerLineWithMetadataAsFields() throws {
        let (lines, socketPath) = try Self.runBusd(format: "json")
        #expect(lines.count >= 3, "\(lines)")
        var started: [String: Any]?
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let record = try #require(object, "not a JSON object: \(line)")
            let timestamp = try #require(record["timestamp"] as? String)
            #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(timestamp)")
            #expect(["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(record["level"] as? String))
            #expect(record["label"] as? String == "busd")
            if record["message"] as? String == "busd started" { started = record }
        }
        let record = try #require(started)
        #expect(record["level"] as? String == "info")
        #expect(record["socket"] as? String == socketPath)
        #expect(record["node"] as? String == "wéb-✓")
        #expect(lines.contains { $0.contains("\"message\":\"drained: left the cluster\"") })
    }

    @Test func textQuotesValuesWithSpacesAndKeepsOneRecordPerLine() throws {
        let (lines, socketPath) = try Self.runBusd(format: "text")
        let line = try #require(lines.first { $0.contains(" busd: busd started ") }, "\(lines)")
        #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info busd: busd started .*/) != nil)
        let fields = try Self.parseFields(String(line.split(separator: "busd started ", maxSplits: 1)[1]))
        #expect(fields["socket"] == socketPath)
        #expect(fields["node"] == "wéb-✓")
        #expect(line.contains("node=wéb-✓ "), "a value without spaces is not quoted: \(line)")
        // Every line is a record: the newline in the path did not split one.
        for line in lines {
            #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+ busd: .*/) != nil, "\(line)")
        }
    }

    /// `key=value key="quoted \"value\""`, the quoted form JSON's string syntax.
    static func parseFields(_ text: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        var rest = Substring(text)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            if rest.first == "\"" {
                var index = rest.index(after: rest.startIndex)
                var escaped = false
                while index < rest.endIndex {
                    let character = rest[index]
                    if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { break }
                    index = rest.index(after: index)
                }
                let quoted = String(rest[...index])
                fields[key] = try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
                rest = rest[rest.index(after: index)...]
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                fields[key] = String(rest[..<end])
                rest = rest[end...]
            }
        }
        return fields
    }
}
