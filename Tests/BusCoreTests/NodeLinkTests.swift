import BusCore
import Foundation
import Hiredis
import LocalProtocol
import Logging
import SocketIOCodec
import Testing
import TestSupport

struct NodeLinkFixture {
    let server: RedisTestServer
    let member: ClusterMember
    let link: NodeLinkServer
    let path: String

    init(
        node: String = "n1",
        configure: (inout ClusterMember.Configuration) -> Void = { _ in },
        link configureLink: (inout NodeLinkServer.Configuration) -> Void = { _ in }
    ) throws {
        server = try RedisTestServer()
        path = server.directory.appendingPathComponent("busd.sock").path
        var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: server.url), nodeId: node)
        configuration.pingInterval = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(600)
        configure(&configuration)
        var logger = Logger(label: "test.nodelink")
        logger.logLevel = ProcessInfo.processInfo.environment["SOCKETBUS_TEST_DEBUG"] != nil ? .debug : .critical
        let relay = NodeCommandRelay()
        member = ClusterMember(configuration: configuration, logger: logger, onBatchEnd: { relay.flush() }) {
            relay.forward($0)
        }
        var linkConfiguration = NodeLinkServer.Configuration(path: path)
        configureLink(&linkConfiguration)
        link = NodeLinkServer(configuration: linkConfiguration, member: member, logger: logger)
        relay.connect(to: link)
        member.start()
        try link.start()
    }

    func stop() {
        link.stop()
        member.stop(leave: false)
    }
}

@Suite("Node link: the local socket against a real redis-server", .serialized)
struct NodeLinkTests {
    @Test func handshakeRegistrationAndCleanupWhenTheNodeGoes() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        var st = stat()
        #expect(lstat(f.path, &st) == 0 && st.st_mode & 0o777 == 0o660)

        let client = try TestNodeClient(path: f.path)
        let welcome = try client.handshake()
        #expect(
            welcome
                == .welcome(
                    version: 1,
                    uid: f.member.uid,
                    nodeId: "n1",
                    ackIdBase: 1 << 52,
                    ackTimeoutMilliseconds: 30_000
                )
        )
        client.send(.socketConnect(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", connectedAt: 1_795_237_379_219))
        client.send(.socketJoin(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", rooms: ["roomA"]))
        client.send(.ping(token: 99))
        #expect(try client.receive() == .pong(token: 99))
        #expect(f.member.socket("AgUEon6wzXtHqqioAAAB")?.rooms == ["roomA"])

        let redis = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        let lookup = RegistryLookup(connection: redis)
        #expect(try eventually { try lookup.findSocket("AgUEon6wzXtHqqioAAAB")?.node == "n1" })

        // The connector process dies: its sockets leave the registry.
        client.disconnect()
        #expect(eventually { f.member.socketCount == 0 && f.link.connectionCount == 0 })
        #expect(try eventually { try lookup.findSocket("AgUEon6wzXtHqqioAAAB") == nil })
    }

    @Test func emitterBroadcastArrivesAsDeliverWithTheCapturedFrame() throws {
        let f = try NodeLinkFixture(node: "n2")
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        client.send(.socketConnect(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", connectedAt: 1))
        client.send(.socketJoin(namespace: "/", socketId: "AgUEon6wzXtHqqioAAAB", rooms: ["roomA"]))
        #expect(
            eventually {
                f.member.socket("AgUEon6wzXtHqqioAAAB")?.rooms == ["roomA"] && f.member.subscribedPatterns.count == 1
                    && f.member.subscribedChannels.count == 3
            }
        )

        // Captured: emitter.to('roomA').emit('bin', {name:'file.bin', data:Buffer<00 01 02 fe ff>})
        let payload = Hex.bytes(
            "93a7656d697474657283a47479706502a46461746192a362696e82a46e616d65a866696c652e62696ea464617461c405000102feffa36e7370a12f83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490"
        )
        let redis = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        _ = try redis.command([Array("PUBLISH".utf8), Array("socket.io#/#roomA#".utf8), payload])
        let frame = try client.receive()
        // The real cluster's client frame was 451-["bin",...] + the attachment.
        #expect(
            frame
                == .deliver(
                    ackId: 0,
                    flags: DeliveryFlags(),
                    namespace: "/",
                    socketIds: ["AgUEon6wzXtHqqioAAAB"],
                    packet: Array(#"51-["bin",{"name":"file.bin","data":{"_placeholder":true,"num":0}}]"#.utf8),
                    attachments: [[0x00, 0x01, 0x02, 0xfe, 0xff]]
                )
        )

        // An emitter socketsJoin reaches the node as SOCKETS_JOIN.
        _ = try redis.command([
            "PUBLISH", "socket.io-request#/#", #"{"type":2,"opts":{"rooms":["roomA"],"except":[]},"rooms":["vip"]}"#,
        ])
        #expect(
            try client.receive() == .socketsJoin(namespace: "/", socketIds: ["AgUEon6wzXtHqqioAAAB"], rooms: ["vip"])
        )
    }

    @Test func nodeBroadcastIsPublishedAsRedisAdapter83Would() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        _ = try client.handshake()
        let watcher = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        _ = try watcher.command(["SUBSCRIBE", "socket.io#/#roomA#"])
        // The node ran io.to('roomA').emit('nodeToRoom', 'hi roomA'); the connector forwards the encoded packet.
        client.send(
            .broadcast(
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: ["roomA"],
                except: [],
                packet: Array(#"2["nodeToRoom","hi roomA"]"#.utf8),
                attachments: []
            )
        )
        let message = try watcher.readReply()
        guard case .array(let parts) = message, parts.count == 3, case .bulk(let published) = parts[2] else {
            Issue.record("no message: \(message)")
            return
        }
        // Captured from a real 8.3 node (uid osO7f9): the same bytes with busd's uid.
        var expected = try Self.capturedHex(containing: "nodeToRoom'")
        expected.replaceSubrange(2..<8, with: Array(f.member.uid.utf8))
        #expect(published == expected)
    }

    @Test func malformedFrameClosesThatConnectionOnly() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let good = try TestNodeClient(path: f.path)
        _ = try good.handshake()
        let bad = try TestNodeClient(path: f.path)
        _ = try bad.handshake()
        bad.sendRaw([0, 0, 0, 2, 0x7e, 0x00])  // unknown type
        #expect(try bad.receive() == .error(code: 1, message: "unknown frame type 0x7e"))
        #expect(bad.isClosedByPeer())
        let early = try TestNodeClient(path: f.path)
        early.send(.ping(token: 1))  // before HELLO
        guard case .error(let code, _)? = try early.receive() else {
            Issue.record("ERROR expected")
            return
        }
        #expect(code == 3)
        good.send(.ping(token: 5))
        #expect(try good.receive() == .pong(token: 5))
        #expect(eventually { f.link.connectionCount == 1 })
    }

    @Test func refusesToStealALiveSocketOrARegularFile() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let second = NodeLinkServer(configuration: .init(path: f.path), member: f.member, logger: logger)
        #expect(throws: NodeLinkServer.StartError.self) { try second.start() }
        let file = f.server.directory.appendingPathComponent("plain-file").path
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let third = NodeLinkServer(configuration: .init(path: file), member: f.member, logger: logger)
        #expect(throws: NodeLinkServer.StartError.self) { try third.start() }
        #expect(FileManager.default.fileExists(atPath: file))
    }

    /// The payload of the captured message whose description contains `text`.
    static func capturedHex(containing text: String) throws -> [UInt8] {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SocketIOCodecTests/Fixtures/captured.jsonl")
        let lines = try String(contentsOf: fixtures, encoding: .utf8).split(separator: "\n")
        for line in lines where line.contains(text) {
            if let hex = try JSONParser().parse(Array(line.utf8))["hex"]?.stringValue { return Hex.bytes(hex) }
        }
        throw POSIXError(.ENOENT)
    }
}
