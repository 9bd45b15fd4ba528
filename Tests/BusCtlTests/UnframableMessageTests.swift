import Foundation
import Hiredis
import LocalProtocol
import Testing
import TestSupport

/// Issue 12 on the real busd and redis-server: a message the local protocol
/// cannot carry is dropped and counted; busd survives it, its node keeps its
/// session, and the next normal message is delivered.
@Suite("busd and messages the local protocol cannot carry", .serialized)
struct UnframableMessageTests {
    static func metrics(_ address: String) -> String {
        (try? InspectCommandTests.run(["status", "--http", address, "--raw"]))?.stdout ?? ""
    }

    /// The exact publish of the issue: a socketsJoin request whose room name
    /// is 70,000 bytes long, then a normal one.
    @Test func aRoomNameOver65535BytesIsDroppedAndBusdGoesOn() throws {
        let port = try FreePort.find()
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: ["--http", "127.0.0.1:\(port)"])
        busd.connect("sock-long")
        #expect(busd.waitRegistered("sock-long"))
        let longRoom = String(repeating: "A", count: 70_000)
        let request = #"{"type":2,"requestId":"x","opts":{"rooms":[],"except":[]},"rooms":[""# + longRoom + #""]}"#
        _ = DrainTests.redisCommand(busd.server, ["PUBLISH", "socket.io-request#/#", request])
        _ = DrainTests.redisCommand(
            busd.server,
            ["PUBLISH", "socket.io-request#/#", #"{"type":2,"opts":{"rooms":[],"except":[]},"rooms":["vip"]}"#]
        )
        #expect(
            try busd.node.receive(timeout: .seconds(5))
                == .socketsJoin(namespace: "/", socketIds: ["sock-long"], rooms: ["vip"])
        )
        #expect(busd.process.isRunning)
        let address = "127.0.0.1:\(port)"
        #expect(
            eventually { Self.metrics(address).contains("socketbus_messages_dropped_total{reason=\"unframable\"} 1") }
        )
    }

    /// A broadcast of 16 MiB from an emitter would make a DELIVER over the
    /// protocol's 16 MiB; the connector would refuse it and end the session.
    @Test func aBroadcastOver16MiBIsDroppedAndTheNodeKeepsItsSession() throws {
        let port = try FreePort.find()
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: ["--http", "127.0.0.1:\(port)"])
        busd.connect("sock-big")
        #expect(busd.waitRegistered("sock-big"))
        let redis = try RedisConnection(endpoint: .unix(path: busd.server.socketPath))
        _ = try redis.command([
            Array("PUBLISH".utf8), Array("socket.io#/#".utf8), Self.emitterBroadcast("news", text: 16 << 20),
        ])
        _ = try redis.command([
            Array("PUBLISH".utf8), Array("socket.io#/#".utf8), Self.emitterBroadcast("after", text: 3),
        ])
        guard case .deliver(_, _, _, let sockets, let packet, _)? = try busd.node.receive(timeout: .seconds(10)) else {
            Issue.record("no DELIVER after the big broadcast")
            return
        }
        #expect(sockets == ["sock-big"])
        #expect(packet == Array(#"2["after","xxx"]"#.utf8))
        #expect(busd.process.isRunning)
        #expect(busd.waitRegistered("sock-big"))
        let address = "127.0.0.1:\(port)"
        #expect(
            eventually { Self.metrics(address).contains("socketbus_messages_dropped_total{reason=\"unframable\"} 1") }
        )
        #expect(Self.metrics(address).contains("socketbus_messages_delivered_total 1"))
    }

    /// What @socket.io/redis-emitter publishes for `emitter.emit(event,
    /// "xxx…")` to the whole namespace: [uid, {type, data, nsp}, {rooms,
    /// flags, except}] in msgpack, the string `text` bytes long.
    static func emitterBroadcast(_ event: String, text: Int) -> [UInt8] {
        var out: [UInt8] = [0x93, 0xa7] + Array("emitter".utf8)
        out += [0x83, 0xa4] + Array("type".utf8) + [0x02, 0xa4] + Array("data".utf8) + [0x92]
        out += [0xa0 | UInt8(event.utf8.count)] + Array(event.utf8)
        out += [0xdb, UInt8(text >> 24 & 0xff), UInt8(text >> 16 & 0xff), UInt8(text >> 8 & 0xff), UInt8(text & 0xff)]
        out += [UInt8](repeating: 0x78, count: text)
        out += [0xa3] + Array("nsp".utf8) + [0xa1, 0x2f]
        out += [0x83, 0xa5] + Array("rooms".utf8) + [0x90]
        out += [0xa5] + Array("flags".utf8) + [0x80]
        out += [0xa6] + Array("except".utf8) + [0x90]
        return out
    }
}
