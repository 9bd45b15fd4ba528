import Foundation
import Hiredis
import Testing
import TestSupport

/// A reply that is not a pub/sub message (PONG, a subscription count) sends
/// the rest of that read through hiredis's reader; when the read ended inside
/// a message, the rest of that message arrives in later reads and must reach
/// the reader too. It did not: the subscriber saw nothing more until its
/// ping time-out cut the link (and the messages published meanwhile were lost).
@Suite("pub/sub inbox: a message cut after a PONG", .serialized)
struct InboxPartialReplyTests {
    static func messagesAfterAPong(subscriber: RedisConnection, publisher: RedisConnection) throws -> (pong: Bool, messages: [Int]) {
        _ = try subscriber.command(["SUBSCRIBE", "ch"])
        // PONG, then a 1 MiB message and a small one, all queued before the
        // subscriber reads: its first read ends inside the large message.
        try subscriber.append(["PING"])
        try subscriber.flush()
        usleep(50_000)
        let large = String(repeating: "x", count: 1 << 20)
        _ = try publisher.command(["PUBLISH", "ch", large])
        _ = try publisher.command(["PUBLISH", "ch", "small"])
        usleep(50_000)
        var pong = false
        var messages: [Int] = []
        let deadline = ContinuousClock.now + .seconds(3)
        while messages.count < 2 && ContinuousClock.now < deadline {
            while true {
                let next = try subscriber.nextBufferedMessage { _, payload in messages.append(payload.count) }
                if case .none = next { break }
                if case .other(let reply) = next, reply == .array([.bulk(Array("pong".utf8)), .bulk([])]) || reply == .status("PONG") {
                    pong = true
                }
            }
            if messages.count < 2, try subscriber.waitReadable(timeout: .milliseconds(100)) { try subscriber.readAvailable() }
        }
        return (pong, messages)
    }

    @Test func overAUnixSocket() throws {
        let server = try RedisTestServer()
        let result = try Self.messagesAfterAPong(
            subscriber: try RedisConnection(endpoint: .unix(path: server.socketPath)),
            publisher: try RedisConnection(endpoint: .unix(path: server.socketPath))
        )
        #expect(result.pong)
        #expect(result.messages == [1 << 20, 5])
    }

    @Test func overTLS() throws {
        let server = try TLSRedisTestServer()
        let tls = RedisTLS(caFile: server.certificates.caFile)
        let result = try Self.messagesAfterAPong(
            subscriber: try RedisConnection(endpoint: .tcp(host: "localhost", port: server.tlsPort), tls: tls),
            publisher: try RedisConnection(endpoint: .unix(path: server.server.socketPath))
        )
        #expect(result.pong)
        #expect(result.messages == [1 << 20, 5])
    }
}
