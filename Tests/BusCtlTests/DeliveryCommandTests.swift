import BusCore
import Foundation
import LocalProtocol
import Testing
import TestSupport

/// `busctl emit --wait-ack` and `busctl acks` against the real busd binary,
/// a real redis-server, and a connector stand-in that acks (or not).
@Suite("busctl emit and acks", .serialized)
struct DeliveryCommandTests {
    /// A busd process with a node connected over its Unix socket.
    final class RunningBusd {
        let server: RedisTestServer
        let process = Process()
        let node: TestNodeClient

        /// `redisArguments` go to redis-server; busd's standard error goes to `standardError` when given.
        init(extraArguments: [String] = [], redisArguments: [String] = [], standardError: FileHandle? = nil) throws {
            server = try RedisTestServer(extraArguments: redisArguments)
            if let standardError { process.standardError = standardError }
            let socketPath = server.directory.appendingPathComponent("busd.sock").path
            process.executableURL = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent(
                "busd"
            )
            process.arguments =
                ["--redis", server.url, "--node-id", "web-1", "--log-level", "error", "--socket", socketPath]
                + extraArguments
            try process.run()
            // A throwing init runs no deinit: a busd left running would hold
            // the test runner's output pipe open, and `swift test` would wait forever.
            do {
                // busd binds its socket before it listens (it checks Redis in
                // between): the file can exist while connections are refused.
                var connected: TestNodeClient?
                guard eventually({
                    connected = try? TestNodeClient(path: socketPath)
                    return connected != nil
                }), let connected else {
                    throw POSIXError(.ECONNREFUSED)
                }
                node = connected
                _ = try node.handshake()
            } catch {
                process.terminate()
                process.waitUntilExit()
                throw error
            }
        }

        func connect(_ socketId: String, rooms: [String] = []) {
            node.send(
                .socketConnect(
                    namespace: "/",
                    socketId: socketId,
                    connectedAt: UInt64(Date().timeIntervalSince1970 * 1000)
                )
            )
            node.send(.socketJoin(namespace: "/", socketId: socketId, rooms: [socketId] + rooms))
        }

        func waitRegistered(_ socketId: String) -> Bool {
            eventually {
                (try? InspectCommandTests.run(["find-socket", socketId, "--redis", self.server.url]))?.status == 0
            }
        }

        deinit {
            process.interrupt()
            process.waitUntilExit()
        }
    }

    /// Starts busctl without waiting for it.
    static func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = InspectCommandTests.binary
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        return (process, out)
    }

    static func finish(_ started: (Process, Pipe)) -> (status: Int32, output: String) {
        let data = started.1.fileHandleForReading.readDataToEndOfFile()
        started.0.waitUntilExit()
        return (started.0.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// One Socket.IO id in 64 starts with '-': busctl must take it (and a
    /// negative number argument) as a value, not as an unknown option.
    @Test func idsAndArgumentsStartingWithADashAreValuesNotOptions() throws {
        let busd = try RunningBusd()
        busd.connect("-XPiPUjbkj64gUuUAAAB")
        #expect(busd.waitRegistered("-XPiPUjbkj64gUuUAAAB"))
        let found = try InspectCommandTests.run([
            "find-socket", "--json", "-XPiPUjbkj64gUuUAAAB", "--redis", busd.server.url,
        ])
        #expect(found.status == 0 && found.stdout.contains(#""node":"web-1""#), "\(found.stdout)\(found.stderr)")
        let emit = try Self.start([
            "emit", "n", "-1", "--to", "-XPiPUjbkj64gUuUAAAB", "--wait-ack", "--timeout", "5s", "--redis",
            busd.server.url,
        ])
        guard case .deliver(let ackId, _, _, let sockets, let packet, _)? = try busd.node.receive(timeout: .seconds(15))
        else {
            Issue.record("no DELIVER")
            return
        }
        #expect(sockets == ["-XPiPUjbkj64gUuUAAAB"])
        #expect(packet == Array("2\(ackId)[\"n\",-1]".utf8))
        busd.node.send(
            .acked(ackId: ackId, socketId: "-XPiPUjbkj64gUuUAAAB", status: .delivered, arguments: Array("[]".utf8))
        )
        let result = Self.finish(emit)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func waitAckExitsZeroWhenTheClientAcksAndPrintsItsArguments() throws {
        let busd = try RunningBusd()
        busd.connect("sock-acks")
        #expect(busd.waitRegistered("sock-acks"))
        let emit = try Self.start([
            "emit", "news", #"{"headline":"hi"}"#, "42", "--to", "sock-acks", "--wait-ack", "--timeout", "5s", "--id",
            "m-ok",
            "--redis", busd.server.url,
        ])
        guard case .deliver(let ackId, _, _, let sockets, let packet, _)? = try busd.node.receive(timeout: .seconds(15))
        else {
            Issue.record("no DELIVER")
            return
        }
        #expect(sockets == ["sock-acks"])
        #expect(packet == Array("2\(ackId)[\"news\",{\"headline\":\"hi\"},42]".utf8))
        busd.node.send(
            .acked(ackId: ackId, socketId: "sock-acks", status: .delivered, arguments: Array(#"["got it"]"#.utf8))
        )
        let result = Self.finish(emit)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("delivered") && result.output.contains(#"args ["got it"]"#))
        #expect(result.output.contains("1/1 delivered, message id m-ok"))

        // The records stay in Redis for late readers.
        let stored = try InspectCommandTests.run(["acks", "m-ok", "--redis", busd.server.url])
        #expect(stored.status == 0)
        #expect(
            stored.stdout.contains("dispatched") && stored.stdout.contains("delivered")
                && stored.stdout.contains("sock-acks")
        )
        let json = try InspectCommandTests.run(["acks", "m-ok", "--json", "--redis", busd.server.url])
        let records = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(records?.map { $0["type"] as? String } == ["dispatched", "confirmation"])
        #expect(records?.last?["status"] as? String == "delivered")
        let missing = try InspectCommandTests.run(["acks", "no-such-message", "--redis", busd.server.url])
        #expect(missing.status == 2)
    }

    @Test func aSilentClientIsReportedTimeoutAndExitsTwo() throws {
        let busd = try RunningBusd()
        busd.connect("sock-silent")
        #expect(busd.waitRegistered("sock-silent"))
        let started = ContinuousClock.now
        let emit = try Self.start([
            "emit", "news", "--to", "sock-silent", "--wait-ack", "--timeout", "1500ms", "--redis", busd.server.url,
        ])
        guard case .deliver? = try busd.node.receive(timeout: .seconds(15)) else {
            Issue.record("no DELIVER")
            return
        }
        let result = Self.finish(emit)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.output.contains("timeout") && result.output.contains("sock-silent"))
        #expect(result.output.contains("0/1 delivered"))
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func aClientThatDisconnectsIsReportedDisconnected() throws {
        let busd = try RunningBusd()
        busd.connect("sock-leaving")
        #expect(busd.waitRegistered("sock-leaving"))
        let emit = try Self.start([
            "emit", "news", "--to", "sock-leaving", "--wait-ack", "--timeout", "5s", "--redis", busd.server.url,
        ])
        guard case .deliver? = try busd.node.receive(timeout: .seconds(15)) else {
            Issue.record("no DELIVER")
            return
        }
        busd.node.send(
            .socketDisconnect(namespace: "/", socketId: "sock-leaving", reason: "client namespace disconnect")
        )
        let result = Self.finish(emit)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.output.contains("disconnected") && result.output.contains("sock-leaving"))
    }

    @Test func aRoomCollectsEverySocketAndFollowStreamsTheRecords() throws {
        let busd = try RunningBusd()
        busd.connect("room-a-1", rooms: ["lobby"])
        busd.connect("room-a-2", rooms: ["lobby"])
        #expect(busd.waitRegistered("room-a-2"))
        let follow = try Self.start(["acks", "--follow", "--count", "3", "--json", "--redis", busd.server.url])
        Thread.sleep(forTimeInterval: 0.3)  // let it subscribe
        let emit = try Self.start([
            "emit", "hello", "--to", "lobby", "--wait-ack", "--timeout", "5s", "--id", "m-room", "--redis",
            busd.server.url,
        ])
        guard case .deliver(let ackId, _, _, let sockets, _, _)? = try busd.node.receive(timeout: .seconds(15)) else {
            Issue.record("no DELIVER")
            return
        }
        #expect(Set(sockets) == ["room-a-1", "room-a-2"])
        for socket in sockets {
            busd.node.send(.acked(ackId: ackId, socketId: socket, status: .delivered, arguments: Array("[]".utf8)))
        }
        let result = Self.finish(emit)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("2/2 delivered"))
        let streamed = Self.finish(follow)
        #expect(streamed.status == 0)
        let lines = streamed.output.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first?.contains(#""type":"dispatched""#) == true)
        #expect(
            lines.dropFirst().allSatisfy {
                $0.contains(#""status":"delivered""#) && $0.contains(#""messageId":"m-room""#)
            }
        )
    }

    @Test func nobodyToDeliverToExitsThree() throws {
        let busd = try RunningBusd()
        let result = try InspectCommandTests.run([
            "emit", "news", "--to", "empty-room", "--wait-ack", "--timeout", "500ms", "--redis", busd.server.url,
        ])
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("no node had a target"))
    }

    @Test func badArgumentsAreUsageErrors() throws {
        let notJSON = try InspectCommandTests.run(["emit", "news", "{oops", "--redis", "redis://127.0.0.1:1"])
        #expect(notJSON.status == 64 && notJSON.stderr.contains("argument 1 is not a JSON value"))
        let badTimeout = try InspectCommandTests.run([
            "emit", "news", "--wait-ack", "--timeout", "soon", "--redis", "redis://127.0.0.1:1",
        ])
        #expect(badTimeout.status == 64 && badTimeout.stderr.contains("--timeout"))
    }
}
