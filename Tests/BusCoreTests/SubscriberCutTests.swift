import Testing

@testable import BusCore

/// How the `INFO` figures before and after a connection Redis closed are read.
@Suite("subscriber cut judged from INFO")
struct SubscriberCutTests {
    static func figures(_ runId: String, evicted: Int? = 0, limit: Int? = nil) -> SubscriberCut.ServerFigures? {
        var lines = ["# Server", "redis_version:7.0.15", "run_id:\(runId)", "# Stats"]
        if let evicted { lines.append("evicted_clients:\(evicted)") }
        if let limit { lines.append("client_output_buffer_limit_disconnections:\(limit)") }
        return SubscriberCut.ServerFigures(info: lines.joined(separator: "\r\n") + "\r\n")
    }

    @Test func infoTextIsParsed() throws {
        let parsed = try #require(Self.figures("abc", evicted: 3, limit: 7))
        #expect(parsed.runId == "abc" && parsed.evictedClients == 3 && parsed.outputLimitDisconnections == 7)
        #expect(SubscriberCut.ServerFigures(info: "# Server\r\nredis_version:7.0.15\r\n") == nil)
    }

    @Test func aRestartIsNotACut() throws {
        #expect(
            SubscriberCut.judge(before: try #require(Self.figures("a")), after: try #require(Self.figures("b"))) == nil
        )
    }

    @Test func theCounterOfRedis72SaysOutputBufferLimit() throws {
        let cut = SubscriberCut.judge(
            before: try #require(Self.figures("a", limit: 4)),
            after: try #require(Self.figures("a", limit: 5))
        )
        #expect(cut?.cause == .outputBufferLimit)
    }

    @Test func evictedClientsSaysEviction() throws {
        let cut = SubscriberCut.judge(
            before: try #require(Self.figures("a", evicted: 0)),
            after: try #require(Self.figures("a", evicted: 1))
        )
        #expect(cut?.cause == .clientEviction)
    }

    @Test func otherwiseRedisClosedIt() throws {
        let cut = SubscriberCut.judge(
            before: try #require(Self.figures("a", limit: 4)),
            after: try #require(Self.figures("a", limit: 4))
        )
        #expect(cut?.cause == .closedByRedis)
        #expect(
            SubscriberCut.judge(before: try #require(Self.figures("a")), after: try #require(Self.figures("a")))?.cause
                == .closedByRedis
        )
    }

    /// INFO comes from Redis (or whatever answers there): odd text reads as
    /// unknown figures, never a trap, and a counter that went down is no cut cause.
    @Test(arguments: [
        "", ":", "run_id", "\u{0}\u{ff}run_id:x",
        "run_id:a\r\nevicted_clients:-1\r\nevicted_clients:99999999999999999999999",
        "run_id:a\r\nclient_output_buffer_limit_disconnections:1e3\r\nevicted_clients:",
        "run_id:" + String(repeating: "z", count: 100_000) + "\r\nevicted_clients:"
            + String(repeating: "9", count: 5000),
    ])
    func hostileInfoIsReadWithoutTrapping(_ text: String) {
        guard let figures = SubscriberCut.ServerFigures(info: text) else { return }
        #expect(figures.outputLimitDisconnections == nil)
        let cut = SubscriberCut.judge(before: figures, after: figures)
        #expect(cut?.cause == .closedByRedis)
    }

    @Test func countersGoingDownAreNoCause() throws {
        let cut = SubscriberCut.judge(
            before: try #require(Self.figures("a", evicted: 5, limit: 9)),
            after: try #require(Self.figures("a", evicted: 1, limit: 2))
        )
        #expect(cut?.cause == .closedByRedis)
    }
}
