import Hiredis
import Testing
import TestSupport

@Suite("hiredis connection against a real redis-server", .serialized)
struct RedisConnectionTests {
    @Test func commandsOverTCPAndUnixSocket() throws {
        let server = try RedisTestServer()
        for endpoint in [
            RedisConnection.Endpoint.tcp(host: "127.0.0.1", port: server.port), .unix(path: server.socketPath),
        ] {
            let redis = try RedisConnection(endpoint: endpoint)
            #expect(try redis.command(["PING"]) == .status("PONG"))
            #expect(try redis.command(["SET", "k", "v"]) == .status("OK"))
            #expect(try redis.command(["GET", "k"]) == .bulk(Array("v".utf8)))
            #expect(try redis.command(["GET", "missing"]) == .null)
        }
    }

    @Test func valuesAreBinarySafe() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let value: [UInt8] = [0x00, 0xff, 0x0d, 0x0a, 0x00, 0x93]
        _ = try redis.command([Array("SET".utf8), Array("bin".utf8), value])
        #expect(try redis.command(["GET", "bin"]) == .bulk(value))
        _ = try redis.command([Array("SET".utf8), Array("empty".utf8), []])
        #expect(try redis.command(["STRLEN", "empty"]) == .integer(0))
    }

    @Test func pipelineReturnsRepliesInOrder() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        let commands = (0..<1000).map { ["INCRBY", "counter", "\($0)"] }
        let replies = try redis.pipeline(commands)
        #expect(replies.count == 1000)
        #expect(replies.last == .integer(Int64((0..<1000).reduce(0, +))))
        #expect(try redis.command(["MGET", "counter", "nothing"]) == .array([.bulk(Array("499500".utf8)), .null]))
    }

    @Test func subscriberCountsCountPlainSubscribersOnly() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        #expect(try redis.subscriberCounts([]) == [:])
        let plain = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try plain.command(["SUBSCRIBE", "socket.io-request#/#"])
        let pattern = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try pattern.command(["PSUBSCRIBE", "socket.io-request#/chat#"])
        let counted = eventually {
            (try? redis.subscriberCounts(["socket.io-request#/#", "socket.io-request#/chat#"]))
                == ["socket.io-request#/#": 1, "socket.io-request#/chat#": 0]
        }
        #expect(counted)
    }

    @Test func errorRepliesAreThrownWithTheirText() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let error = #expect(throws: RedisError.self) { _ = try redis.command(["NOSUCHCOMMAND"]) }
        #expect(error?.code == .reply)
        #expect(error?.replyPrefix == "ERR")
        #expect(error?.description.contains("unknown command") == true)
        // The connection is still in step.
        #expect(try redis.command(["PING"]) == .status("PONG"))
    }

    @Test func anErrorReplyNestedInAnArrayIsThrown() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        _ = try redis.command(["SET", "text", "x"])
        _ = try redis.command(["MULTI"])
        _ = try redis.command(["INCR", "text"])  // QUEUED; fails inside EXEC
        _ = try redis.command(["SET", "other", "y"])
        let error = #expect(throws: RedisError.self) { _ = try redis.command(["EXEC"]) }
        #expect(error?.code == .reply)
        #expect(error?.message.contains("not an integer") == true)
        #expect(try redis.command(["GET", "other"]) == .bulk(Array("y".utf8)))
    }

    @Test func aPipelineReadsEveryReplyThenThrowsTheFirstError() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let error = #expect(throws: RedisError.self) {
            _ = try redis.pipeline([["SET", "a", "1"], ["INCR", "a", "extra"], ["SET", "b", "2"], ["NOSUCH"]])
        }
        #expect(error?.code == .reply)
        #expect(error?.description.contains("INCR (command 2 of 4)") == true)
        // Every reply was read: the next command gets its own reply.
        #expect(try redis.command(["GET", "b"]) == .bulk(Array("2".utf8)))
    }

    @Test func authenticationAndOutOfMemoryRepliesAreRecognised() throws {
        let server = try RedisTestServer(extraArguments: ["--requirepass", "s3cret"])
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        let noAuth = #expect(throws: RedisError.self) { _ = try redis.command(["SMEMBERS", "nodes"]) }
        #expect(noAuth?.replyPrefix == "NOAUTH" && noAuth?.isAuthenticationFailure == true)
        let wrong = #expect(throws: RedisError.self) { _ = try redis.command(["AUTH", "nope"]) }
        #expect(wrong?.isAuthenticationFailure == true)
        _ = try redis.command(["AUTH", "s3cret"])
        _ = try redis.command(["CONFIG", "SET", "maxmemory", "1"])
        let oom = #expect(throws: RedisError.self) { _ = try redis.command(["SET", "k", "v"]) }
        #expect(oom?.isServerOutOfMemory == true && oom?.isAuthenticationFailure == false)
    }

    @Test func connectionRefusedIsAnIOError() throws {
        let port = try FreePort.find()
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port), timeout: .milliseconds(500))
        }
        #expect(error?.code == .io)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
    }

    @Test func readTimeoutIsReported() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath), timeout: .milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: RedisError.self) { _ = try redis.command(["BLPOP", "nothing", "5"]) }
        #expect(error?.code == .timeout)
        #expect(clock.now - start < .seconds(3))
    }

    @Test func serverGoingAwayIsNoticed() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: server.port))
        #expect(try redis.command(["PING"]) == .status("PONG"))
        server.kill()
        let error = #expect(throws: RedisError.self) { _ = try redis.command(["PING"]) }
        #expect(error?.code == .eof || error?.code == .io)
    }

    @Test func closedConnectionRefusesCommands() throws {
        let server = try RedisTestServer()
        let redis = try RedisConnection(endpoint: .unix(path: server.socketPath))
        redis.close()
        let error = #expect(throws: RedisError.self) { _ = try redis.command(["PING"]) }
        #expect(error?.code == .closed)
    }
}
