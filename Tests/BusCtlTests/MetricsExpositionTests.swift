import BusCore
import Foundation
import LocalProtocol
import Testing
import TestSupport

/// busd's /metrics as Prometheus reads it, on the real binary: the page
/// parses, the latency histograms move with traffic, the process metrics
/// are sane, and every metric deploy/'s dashboard and alerts name exists.
@Suite("busd /metrics exposition", .serialized)
struct MetricsExpositionTests {
    @Test func thePageParsesAndTheHistogramsMoveWithADeliveredMessage() throws {
        let port = try FreePort.find()
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: [
            "--http", "127.0.0.1:\(port)", "--liveness-ttl", "3s",
        ])
        busd.connect("sock-metrics")
        #expect(busd.waitRegistered("sock-metrics"))
        let address = "127.0.0.1:\(port)"
        let before = try Self.scrape(address)

        let emit = try DeliveryCommandTests.start([
            "emit", "news", "1", "--to", "sock-metrics", "--wait-ack", "--timeout", "5s", "--redis", busd.server.url,
        ])
        guard case .deliver(let ackId, _, _, _, _, _)? = try busd.node.receive(timeout: .seconds(5)) else {
            Issue.record("no DELIVER")
            return
        }
        busd.node.send(.acked(ackId: ackId, socketId: "sock-metrics", status: .delivered, arguments: Array("[]".utf8)))
        #expect(DeliveryCommandTests.finish(emit).status == 0)

        // The liveness write runs every 1 s here (a third of the TTL).
        var after = before
        #expect(
            eventually {
                guard let page = try? Self.scrape(address) else { return false }
                after = page
                return after.value("socketbus_ack_latency_seconds_count") ?? 0 > 0
                    && after.value("socketbus_redis_round_trip_seconds_count") ?? 0 > 0
            }
        )
        for family in [
            "socketbus_delivery_latency_seconds", "socketbus_ack_latency_seconds",
            "socketbus_redis_round_trip_seconds", "socketbus_request_answer_seconds",
        ] {
            #expect(after.types[family] == "histogram", "\(family) is no histogram")
            try after.checkHistogram(family)
        }
        #expect(
            (after.value("socketbus_delivery_latency_seconds_count") ?? 0)
                > (before.value("socketbus_delivery_latency_seconds_count") ?? 0)
        )
        #expect(
            (after.value("socketbus_ack_latency_seconds_count") ?? 0)
                > (before.value("socketbus_ack_latency_seconds_count") ?? 0)
        )
        // The ack came within the 5 s the emit waited.
        let ackSum = after.value("socketbus_ack_latency_seconds_sum") ?? -1
        #expect(ackSum >= 0 && ackSum < 5)

        // Process metrics, from /proc/self.
        let cpu = after.value("process_cpu_seconds_total") ?? -1
        #expect(cpu > 0 && cpu < 600)
        let rss = after.value("process_resident_memory_bytes") ?? 0
        #expect(rss > 1_000_000 && rss < 4_000_000_000)
        let fds = after.value("process_open_fds") ?? 0
        #expect(fds >= 5 && fds < 10_000)
        let started = after.value("process_start_time_seconds") ?? 0
        #expect(abs(started - Date().timeIntervalSince1970) < 120)

        // build_info carries busd --version's version and commit: the
        // BUSD_BUILD_COMMIT this test's own build saw (swift test builds with
        // the environment it runs the tests with), else "unknown".
        let version = try BusdOperationsTests.runBusd(["--version"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        let info = after.samples.first { $0.name == "socketbus_build_info" }
        let commit = Self.expectedCommit
        #expect(version == "\(info?.labels["version"] ?? "?") (commit \(commit))")
        #expect(info?.labels["commit"] == commit)
        #expect(info?.value == 1)

        try Self.checkDeployNamesExist(in: after)
    }

    /// What Package.swift stamps: BUSD_BUILD_COMMIT when it looks like a commit id or tag, else "unknown".
    static var expectedCommit: String {
        let given = ProcessInfo.processInfo.environment["BUSD_BUILD_COMMIT"] ?? ""
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        return !given.isEmpty && given.count <= 64 && given.allSatisfy(allowed.contains) ? given : "unknown"
    }

    /// Every `socketbus_*` / `process_*` name in deploy/grafana and deploy/prometheus.
    static func checkDeployNamesExist(in page: Exposition) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let files = [
            "deploy/grafana/socketbus-dashboard.json", "deploy/prometheus/socketbus-alerts.yml",
        ]
        let pattern = try NSRegularExpression(pattern: "\\b(?:socketbus|process)_[a-z0-9_]+")
        let known = page.sampleNames
        var checked = 0
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            let range = NSRange(text.startIndex..., in: text)
            for match in pattern.matches(in: text, range: range) {
                guard let found = Range(match.range, in: text) else { continue }
                let name = String(text[found])
                checked += 1
                let present = known.contains(name)
                #expect(present, "\(file) names \(name), which busd's /metrics lacks")
            }
        }
        #expect(checked > 10, "too few metric names found in deploy/ (\(checked))")
    }

    static func scrape(_ address: String) throws -> Exposition {
        let result = try InspectCommandTests.run(["status", "--http", address, "--raw"])
        return try Exposition(parsing: result.stdout)
    }
}

/// A small parser of the Prometheus text format (0.0.4), strict enough to
/// catch what Prometheus would reject.
struct Exposition {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var description: String { "unparsable exposition line: \(line)" }
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    var sampleNames: Set<String> { Set(samples.map(\.name)) }

    init(parsing text: String) throws {
        let name = try NSRegularExpression(pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$")
        func isName(_ s: Substring) -> Bool {
            name.firstMatch(in: String(s), range: NSRange(location: 0, length: s.utf16.count)) != nil
        }
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, isName(parts[2]),
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]),
                    types.updateValue(String(parts[3]), forKey: String(parts[2])) == nil
                else { throw ParseError(line: String(line)) }
                continue
            }
            if line.hasPrefix("#") { continue }
            samples.append(try Self.sample(line, isName: isName))
        }
        // Each sample belongs to a declared family (histograms by their suffixes).
        for sample in samples {
            let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                name.hasSuffix(suffix) && types[String(name.dropLast(suffix.count))] == "histogram"
                    ? String(name.dropLast(suffix.count)) : name
            }
            guard types[family] != nil else { throw ParseError(line: "no TYPE for \(sample.name)") }
        }
    }

    private static func sample(_ line: Substring, isName: (Substring) -> Bool) throws -> Sample {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = rest[..<nameEnd]
        guard isName(name) else { throw ParseError(line: String(line)) }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "="), isName(rest[..<equals]) else {
                    throw ParseError(line: String(line))
                }
                let key = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw ParseError(line: String(line)) }
                rest = rest.dropFirst()
                var value = ""
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    if c == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(c)
                    }
                }
                guard rest.first == "\"" else { throw ParseError(line: String(line)) }
                rest = rest.dropFirst()
                labels[key] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { throw ParseError(line: String(line)) }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw ParseError(line: String(line)) }
        let valueText = rest.dropFirst()
        let value: Double? =
            switch valueText {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(valueText)
            }
        guard let value else { throw ParseError(line: String(line)) }
        return Sample(name: String(name), labels: labels, value: value)
    }

    func value(_ name: String) -> Double? { samples.first { $0.name == name && $0.labels.isEmpty }?.value }

    /// Buckets ascending in `le`, cumulative, ending at +Inf = `_count`.
    func checkHistogram(_ family: String) throws {
        let buckets = samples.filter { $0.name == family + "_bucket" }
        let bounds = buckets.compactMap { $0.labels["le"].flatMap { $0 == "+Inf" ? .infinity : Double($0) } }
        #expect(bounds.count == buckets.count && bounds.count > 5, "\(family): bad le labels")
        #expect(bounds == bounds.sorted() && bounds.last == .infinity, "\(family): bounds not ascending to +Inf")
        let counts = buckets.map(\.value)
        #expect(counts == counts.sorted(), "\(family): buckets not cumulative")
        #expect(counts.last == value(family + "_count"), "\(family): +Inf bucket is not _count")
        #expect(value(family + "_sum") != nil, "\(family): no _sum")
    }
}
