import Foundation
import StatusHTTP
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Slow, silent and oversized clients on a real loopback port, while a probe
/// asks `/healthz` (issue 12, item 6: one thread used to serve them in turn).
@Suite("Status server under abuse", .serialized)
struct StatusServerAbuseTests {
    static let probeBudget = Duration.milliseconds(200)
    /// Made once: building it in the handler would be the handler's time, not the server's.
    static let bigBody = String(repeating: "x", count: 16 << 20)

    static func start(deadline: Duration = .seconds(2), maximumConnections: Int = 64) throws -> (
        StatusServer, ListenAddress
    ) {
        let server = StatusServer(address: ListenAddress(host: "127.0.0.1", port: 0)) { head in
            switch head.path {
            case "/healthz": .text(200, "ok")
            // More than the socket buffers hold: a client that does not read stalls the write.
            case "/big": .text(200, bigBody)
            default: .text(404, "no")
            }
        }
        server.limits.requestDeadline = deadline
        server.limits.maximumConnections = maximumConnections
        let port = try server.start()
        return (server, ListenAddress(host: "127.0.0.1", port: port))
    }

    /// One probe: 200 within the budget (the budget a kubelet's 1 s timeout leaves with margin).
    static func expectProbeAnswersQuickly(_ address: ListenAddress, sourceLocation: SourceLocation = #_sourceLocation) {
        let started = ContinuousClock.now
        let answer = try? StatusClient.get(address, path: "/healthz", timeout: .seconds(5))
        let took = ContinuousClock.now - started
        #expect(answer?.status == 200, sourceLocation: sourceLocation)
        #expect(took < probeBudget, "healthz took \(took)", sourceLocation: sourceLocation)
    }

    /// The loop counts a closed connection just after closing it.
    static func eventually(_ condition: () -> Bool) -> Bool {
        for _ in 0..<100 {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test func aDrippingClientNeitherDelaysProbesNorOutlivesTheDeadline() throws {
        let (server, address) = try Self.start(deadline: .seconds(1))
        defer { server.stop() }
        let drip = try RawClient(address)
        // One byte every 150 ms: each read is quick, so only a deadline on
        // the whole request ends it.
        let stop = Atomic<Bool>(false)
        let dripping = Thread {
            for byte in "GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8 {
                if stop.load(ordering: .relaxed) || !drip.send([byte]) { return }
                usleep(150_000)
            }
        }
        dripping.start()
        defer { stop.store(true, ordering: .relaxed) }
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .milliseconds(1500) {
            Self.expectProbeAnswersQuickly(address)
            usleep(100_000)
        }
        // Closed at the deadline, without a response.
        #expect(drip.readToEnd(timeout: .seconds(2)) == "")
        #expect(Self.eventually { server.droppedConnections.timedOut == 1 })
    }

    @Test func fiftySilentConnectionsDoNotDelayProbes() throws {
        let (server, address) = try Self.start(deadline: .seconds(1))
        defer { server.stop() }
        let silent = try (0..<50).map { _ in try RawClient(address) }
        for _ in 0..<10 { Self.expectProbeAnswersQuickly(address) }
        // All of them closed at the deadline, none answered.
        let started = ContinuousClock.now
        for client in silent { #expect(client.readToEnd(timeout: .seconds(3)) == "") }
        #expect(ContinuousClock.now - started < .milliseconds(1500))
        #expect(Self.eventually { server.droppedConnections.timedOut == 50 })
    }

    @Test func beyondTheConnectionLimitTheOldestIdleOneMakesRoom() throws {
        let (server, address) = try Self.start(deadline: .seconds(10), maximumConnections: 8)
        defer { server.stop() }
        let silent = try (0..<20).map { _ in try RawClient(address) }
        for _ in 0..<5 { Self.expectProbeAnswersQuickly(address) }
        // The first ones were evicted (closed long before their 10 s deadline).
        #expect(silent[0].readToEnd(timeout: .seconds(1)) == "")
        #expect(server.droppedConnections.evicted >= 12)
        #expect(server.droppedConnections.timedOut == 0)
    }

    @Test func aClientThatDoesNotReadItsAnswerIsCutOffAtTheDeadline() throws {
        let (server, address) = try Self.start(deadline: .seconds(1))
        defer { server.stop() }
        _ = Self.bigBody
        let client = try RawClient(address)
        _ = client.send(Array("GET /big HTTP/1.1\r\n\r\n".utf8))
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .milliseconds(1500) {
            Self.expectProbeAnswersQuickly(address)
            usleep(100_000)
        }
        #expect(Self.eventually { server.droppedConnections.timedOut == 1 })
    }

    @Test func anOversizedHeadIsRefused() throws {
        let (server, address) = try Self.start()
        defer { server.stop() }
        let client = try RawClient(address)
        _ = client.send(Array("GET /healthz HTTP/1.1\r\nX-Big: ".utf8) + [UInt8](repeating: 97, count: 9000))
        #expect(client.readToEnd(timeout: .seconds(1)).hasPrefix("HTTP/1.1 400"))
        Self.expectProbeAnswersQuickly(address)
    }

    @Test func stopClosesOpenConnections() throws {
        let (server, address) = try Self.start(deadline: .seconds(30))
        let client = try RawClient(address)
        Self.expectProbeAnswersQuickly(address)
        server.stop()
        #expect(client.readToEnd(timeout: .seconds(1)) == "")
        #expect(throws: StatusServerError.self) { try StatusClient.get(address, path: "/healthz") }
    }
}

/// A blocking TCP client on 127.0.0.1 for the tests above.
final class RawClient: Sendable {
    let fd: Int32

    init(_ address: ListenAddress) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(address.port).bigEndian)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw StatusServerErrorForTests("connect: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// What arrives until the server closes; "timed out" if it does not within `timeout`.
    func readToEnd(timeout: Duration) -> String {
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return "timed out" }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

struct StatusServerErrorForTests: Error {
    let description: String
    init(_ description: String) { self.description = description }
}
