import BusCore
import Foundation
import Logging
import Testing
import TestSupport

/// `busctl find-socket` and `busctl nodes` against a real redis-server, with
/// the registry written by real cluster members (and by the busd binary).
@Suite("busctl find-socket and nodes", .serialized)
struct RegistryCommandTests {
    static func member(_ server: RedisTestServer, _ node: String, ttl: Duration = .seconds(5)) throws -> ClusterMember {
        var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: server.url), nodeId: node)
        configuration.livenessTTL = ttl
        configuration.cleanupInterval = .seconds(60)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return ClusterMember(configuration: configuration, logger: logger) { _ in }
    }

    @Test func exitCodesFoundNotFoundStale() throws {
        let server = try RedisTestServer()
        let alive = try Self.member(server, "alive-node")
        alive.start()
        defer { alive.stop(leave: false) }
        alive.socketConnected("AgUEon6wzXtHqqioAAAB", namespace: "/chat")
        let dying = try Self.member(server, "dying-node", ttl: .milliseconds(700))
        dying.start()
        dying.socketConnected("4YNkg8RQH4qx_k5dAAAE", namespace: "/")
        #expect(eventually { alive.pendingRegistryWrites == 0 && dying.pendingRegistryWrites == 0 && alive.registryRewrites > 0 && dying.registryRewrites > 0 })
        #expect(eventually {
            (try? InspectCommandTests.run(["find-socket", "4YNkg8RQH4qx_k5dAAAE", "--redis", server.url]).status) == 0
        })

        let found = try InspectCommandTests.run(["find-socket", "AgUEon6wzXtHqqioAAAB", "--redis", server.url])
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout.contains("alive-node") && found.stdout.contains("/chat") && found.stdout.contains("alive"))

        let json = try InspectCommandTests.run(["find-socket", "AgUEon6wzXtHqqioAAAB", "--json", "--redis", "unix://\(server.socketPath)"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["node"] as? String == "alive-node")
        #expect(object?["state"] as? String == "alive")
        #expect(object?["namespace"] as? String == "/chat")

        let missing = try InspectCommandTests.run(["find-socket", "no-such-socket", "--redis", server.url])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("not found"))

        dying.stop(leave: false)  // crashed: its entries stay until someone cleans up
        #expect(eventually(timeout: .seconds(3)) {
            (try? InspectCommandTests.run(["find-socket", "4YNkg8RQH4qx_k5dAAAE", "--redis", server.url]).status) == 3
        })
        let stale = try InspectCommandTests.run(["find-socket", "4YNkg8RQH4qx_k5dAAAE", "--redis", server.url])
        #expect(stale.stdout.contains("stale"))
    }

    @Test func unreachableRedisIsAnError() throws {
        let port = try FreePort.find()
        let result = try InspectCommandTests.run(["find-socket", "x", "--redis", "redis://127.0.0.1:\(port)"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach Redis"))
        let bad = try InspectCommandTests.run(["nodes", "--redis", "http://nope"])
        #expect(bad.status == 64)  // a usage error, naming the option
        #expect(bad.stderr.contains("--redis") && bad.stderr.contains("must start with redis://"))
    }

    @Test func busdRegistersAndLeavesOnSIGTERM() throws {
        let server = try RedisTestServer()
        let busd = Process()
        busd.executableURL = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
        let socketPath = server.directory.appendingPathComponent("busd.sock").path
        busd.arguments = ["--redis", server.url, "--node-id", "busd-under-test", "--log-level", "error", "--socket", socketPath]
        try busd.run()
        defer { if busd.isRunning { busd.interrupt() } }

        #expect(eventually {
            guard let result = try? InspectCommandTests.run(["nodes", "--json", "--redis", server.url]),
                let nodes = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
            else { return false }
            return nodes.first?["node"] as? String == "busd-under-test" && nodes.first?["state"] as? String == "alive"
        })
        #expect(FileManager.default.fileExists(atPath: socketPath))
        let table = try InspectCommandTests.run(["nodes", "--redis", server.url])
        #expect(table.stdout.contains("NODE") && table.stdout.contains("busd-under-test") && table.stdout.contains("alive"))

        // busd unblocks SIGTERM even when its parent (Foundation's Process) blocked it.
        busd.terminate()
        busd.waitUntilExit()
        #expect(busd.terminationStatus == 0)
        let after = try InspectCommandTests.run(["nodes", "--redis", server.url])
        #expect(after.stdout.contains("no nodes registered"))
        #expect(!FileManager.default.fileExists(atPath: socketPath))
    }
}
