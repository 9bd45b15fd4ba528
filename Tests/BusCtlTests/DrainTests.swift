import Foundation
import Hiredis
import SocketIOCodec
import LocalProtocol
import Testing
import TestSupport

/// busd's graceful drain on SIGTERM, on the real binary with a real
/// redis-server: what the node sent is published, the registry entries go,
/// the socket closes to newcomers, and the deadline holds when Redis is gone.
@Suite("busd drain", .serialized)
struct DrainTests {
    static func redisCommand(_ server: RedisTestServer, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-p", "\(server.port)"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try? process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func drainPublishesWhatWaitedForRedisThenLeavesAndExitsZero() throws {
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: [
            "--drain-deadline", "8s", "--redis-timeout", "300ms", "--http", "off",
        ])
        busd.connect("drain-a", rooms: ["drain-room"])
        busd.connect("drain-b")
        #expect(busd.waitRegistered("drain-b"))
        // A subscriber that stays connected through the freeze below.
        let subscriber = Process()
        subscriber.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        subscriber.arguments = ["-p", "\(busd.server.port)", "psubscribe", "socket.io#*"]
        let received = Pipe()
        subscriber.standardOutput = received
        try subscriber.run()
        // SIGKILL: a child of Foundation's Process may have SIGTERM blocked.
        defer { kill(subscriber.processIdentifier, SIGKILL) }
        Thread.sleep(forTimeInterval: 0.5)

        // Redis stops answering; the node's broadcast waits in busd's buffer.
        busd.server.freeze()
        busd.node.send(
            .broadcast(
                namespace: "/", flags: DeliveryFlags(), rooms: ["drain-room"], except: [],
                packet: Array(#"2["last words","before the drain"]"#.utf8), attachments: []))
        Thread.sleep(forTimeInterval: 0.5)
        let socketPath = busd.server.directory.appendingPathComponent("busd.sock").path
        let started = Date()
        busd.process.terminate()
        // Draining: no newcomers on the socket, busd waits for Redis.
        #expect(eventually { !FileManager.default.fileExists(atPath: socketPath) })
        #expect((try? TestNodeClient(path: socketPath)) == nil)
        Thread.sleep(forTimeInterval: 1)
        #expect(busd.process.isRunning, "busd gave up while the deadline was far")
        busd.server.thaw()
        busd.process.waitUntilExit()
        #expect(busd.process.terminationStatus == 0)
        #expect(Date().timeIntervalSince(started) < 8)
        // The broadcast reached Redis, and this node's entries are gone.
        Thread.sleep(forTimeInterval: 0.3)
        kill(subscriber.processIdentifier, SIGKILL)
        let output = String(decoding: received.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.contains("socket.io#/#drain-room#"))
        #expect(output.contains("before the drain"))
        #expect(Self.redisCommand(busd.server, ["hlen", "socketbus:owner"]).hasPrefix("0"))
        #expect(Self.redisCommand(busd.server, ["exists", "socketbus:node:web-1", "socketbus:node:web-1:sockets"]).hasPrefix("0"))
        #expect(Self.redisCommand(busd.server, ["sismember", "socketbus:nodes", "web-1"]).hasPrefix("0"))
    }

    /// Frames already queued for a node that reads slowly are written out
    /// before busd closes the connection: the drain does not drop them.
    @Test func framesQueuedForTheNodeAreWrittenBeforeExit() throws {
        let port = try FreePort.find()
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: ["--http", "127.0.0.1:\(port)", "--ack-policy", "none"])
        busd.connect("flush-a")
        #expect(busd.waitRegistered("flush-a"))
        let redis = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: busd.server.port))
        let total = 3000
        var commands: [[[UInt8]]] = []
        for n in 0..<total {
            let padding = String(repeating: "x", count: 120)
            let message = BroadcastMessage(
                uid: "emitter", data: [.string("tick"), .number(Double(n)), .string(padding)], namespace: "/",
                rooms: [.name("flush-a")])
            commands.append([Array("PUBLISH".utf8), Array(message.channel().name.utf8), try message.encode()])
        }
        _ = try redis.pipeline(commands)
        // busd has handed every message to the node link; the node has read none of it.
        let address = "127.0.0.1:\(port)"
        #expect(eventually(timeout: .seconds(10)) {
            (try? InspectCommandTests.run(["status", "--http", address, "--raw"]))?.stdout
                .contains("socketbus_messages_delivered_total \(total)") == true
        })
        busd.process.terminate()
        Thread.sleep(forTimeInterval: 0.3)
        var delivered = 0
        while let frame = try busd.node.receive(timeout: .seconds(5)) {
            if case .deliver = frame { delivered += 1 }
        }
        busd.process.waitUntilExit()
        #expect(delivered == total)
        #expect(busd.process.terminationStatus == 0)
    }

    @Test func theDeadlineHoldsWhenRedisIsGone() throws {
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: [
            "--drain-deadline", "1500ms", "--redis-timeout", "300ms", "--http", "off", "--log-level", "error",
        ])
        busd.connect("deadline-a")
        #expect(busd.waitRegistered("deadline-a"))
        busd.server.kill()
        busd.node.send(
            .broadcast(
                namespace: "/", flags: DeliveryFlags(), rooms: [], except: [], packet: Array(#"2["lost"]"#.utf8),
                attachments: []))
        let started = Date()
        busd.process.terminate()
        busd.process.waitUntilExit()
        let took = Date().timeIntervalSince(started)
        #expect(busd.process.terminationStatus == 1, "cut short by the deadline: not a clean drain")
        #expect(took >= 1.4 && took < 4, "took \(took) s")
    }
}
