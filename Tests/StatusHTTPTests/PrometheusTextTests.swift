import StatusHTTP
import Testing

@Suite("Prometheus text")
struct PrometheusTextTests {
    @Test func familiesDeclareOnceAndSamplesFollow() {
        var page = PrometheusText()
        page.add("x_total", .counter, help: "Xs.", labels: ["reason": "a"], value: 3)
        page.add("x_total", .counter, help: "Xs.", labels: ["reason": "b"], value: 0)
        page.add("y", .gauge, help: "A \\ with\nnewline.", value: 1.5)
        #expect(
            page.text == """
                # HELP x_total Xs.
                # TYPE x_total counter
                x_total{reason="a"} 3
                x_total{reason="b"} 0
                # HELP y A \\\\ with\\nnewline.
                # TYPE y gauge
                y 1.5

                """)
    }

    /// Label values escape backslash, line feed and double quote (HELP texts
    /// leave the quote), byte for byte, whatever else the text holds.
    @Test(arguments: [
        ("plain", "plain"),
        ("", ""),
        ("a\"b", "a\\\"b"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        ("crlf\r\n", "crlf\r\\n"),
        ("\"\\\n\"", "\\\"\\\\\\n\\\""),
        ("é \"ü\" 🚀", "é \\\"ü\\\" 🚀"),
    ])
    func labelValuesAreEscaped(raw: String, escaped: String) {
        var page = PrometheusText()
        page.add("z", .gauge, help: "Z \"q\".", labels: ["v": raw], value: 1)
        #expect(page.text == "# HELP z Z \"q\".\n# TYPE z gauge\nz{v=\"\(escaped)\"} 1\n")
    }

    @Test func aHistogramHasCumulativeBucketsThenSumAndCount() {
        var page = PrometheusText()
        page.addHistogram("d_seconds", help: "Ds.", bounds: [0.00005, 1], cumulative: [1, 3], count: 4, sum: 7.5)
        #expect(
            page.text == """
                # HELP d_seconds Ds.
                # TYPE d_seconds histogram
                d_seconds_bucket{le="5e-05"} 1
                d_seconds_bucket{le="1"} 3
                d_seconds_bucket{le="+Inf"} 4
                d_seconds_sum 7.5
                d_seconds_count 4

                """
        )
    }

    @Test func labelValuesAreEscapedAndParseBack() {
        var page = PrometheusText()
        page.add("info", .gauge, help: "h", labels: ["node": #"we"b\1"#, "uid": "a\nb"], value: 1)
        page.add("big", .gauge, help: "h", value: 1e20)
        let samples = PrometheusSample.parse(page.text)
        #expect(samples.count == 2)
        #expect(samples[0].labels == ["node": #"we"b\1"#, "uid": "a\nb"])
        #expect(samples[1].value == 1e20)
    }

    @Test func parserSkipsCommentsAndGarbage() {
        let samples = PrometheusSample.parse("# HELP a b\na 1\n{bad} 2\nc{x=\"1\"} NaN\nd +Inf\ne notanumber\n")
        #expect(samples.map(\.name) == ["a", "c", "d"])
        #expect(samples[1].value.isNaN && samples[2].value == .infinity)
    }
}

@Suite("HTTP request heads")
struct HTTPRequestHeadTests {
    static let cases: [(String, HTTPRequestHead.ParseResult)] = [
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", .complete(.init(method: "GET", path: "/metrics"))),
        ("GET /readyz?verbose=1 HTTP/1.0\r\n\r\n", .complete(.init(method: "GET", path: "/readyz"))),
        ("HEAD / HTTP/1.1\r\n\r\n", .complete(.init(method: "HEAD", path: "/"))),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n", .incomplete),
        ("", .incomplete),
        ("GET http://x/ HTTP/1.1\r\n\r\n", .invalid("request target must be a path")),
        ("GET /\r\n\r\n", .invalid("malformed request line")),
        ("GET / SPDY/3\r\n\r\n", .invalid("malformed request line")),
    ]

    @Test(arguments: cases)
    func parses(_ text: String, _ expected: HTTPRequestHead.ParseResult) {
        #expect(HTTPRequestHead.parse(Array(text.utf8)) == expected)
    }

    @Test func anEndlessHeadIsRefused() {
        let head = "GET / HTTP/1.1\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 600)
        #expect(HTTPRequestHead.parse(Array(head.utf8)) == .invalid("request head larger than 8192 bytes"))
    }

    static let addresses: [(String, ListenAddress?)] = [
        ("127.0.0.1:9477", ListenAddress(host: "127.0.0.1", port: 9477)),
        ("[::1]:80", ListenAddress(host: "::1", port: 80)),
        (" localhost:0 ", ListenAddress(host: "localhost", port: 0)),
        ("0.0.0.0:9477", ListenAddress(host: "0.0.0.0", port: 9477)),
        (":9477", nil), ("9477", nil), ("127.0.0.1:http", nil), ("127.0.0.1:70000", nil), ("::1:80", nil),
    ]

    @Test(arguments: addresses)
    func listenAddresses(_ text: String, _ expected: ListenAddress?) {
        #expect((try? ListenAddress(parsing: text)) == expected)
    }

    @Test func loopbackIsRecognised() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:1").isLoopback)
        #expect(try ListenAddress(parsing: "[::1]:1").isLoopback)
        #expect(try !ListenAddress(parsing: "0.0.0.0:1").isLoopback)
    }
}
