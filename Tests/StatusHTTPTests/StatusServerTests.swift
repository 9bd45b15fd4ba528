import Foundation
import StatusHTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The server on a real loopback port, asked by the real client and by raw sockets.
@Suite("Status server", .serialized)
struct StatusServerTests {
    static func start() throws -> (StatusServer, ListenAddress) {
        let server = StatusServer(address: ListenAddress(host: "127.0.0.1", port: 0)) { head in
            head.path == "/hello" ? .text(200, "hi") : .text(404, "no")
        }
        server.limits.requestDeadline = .seconds(1)
        let port = try server.start()
        return (server, ListenAddress(host: "127.0.0.1", port: port))
    }

    @Test func answersGetsAndClosesTheConnection() throws {
        let (server, address) = try Self.start()
        defer { server.stop() }
        let hello = try StatusClient.get(address, path: "/hello")
        #expect(hello.status == 200 && hello.body == "hi\n")
        #expect(try StatusClient.get(address, path: "/other").status == 404)
        // Sequential requests all get served.
        for _ in 0..<50 { #expect(try StatusClient.get(address, path: "/hello").status == 200) }
    }

    @Test func badRequestsGetAnErrorAndTheServerGoesOn() throws {
        let (server, address) = try Self.start()
        defer { server.stop() }
        #expect(Self.raw(address, "POST /hello HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405"))
        #expect(Self.raw(address, "garbage\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        #expect(Self.raw(address, "HEAD /hello HTTP/1.1\r\n\r\n").hasSuffix("\r\n\r\n"))
        // A client that sends half a head and stalls is cut off at the request deadline.
        let started = ContinuousClock.now
        #expect(Self.raw(address, "GET /hel") == "")
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(try StatusClient.get(address, path: "/hello").status == 200)
    }

    @Test func aTakenPortIsAClearError() throws {
        let (server, address) = try Self.start()
        defer { server.stop() }
        let second = StatusServer(address: address) { _ in .text(200, "") }
        #expect(throws: StatusServerError.self) { try second.start() }
        do {
            try second.start()
        } catch {
            #expect(error.description == "cannot listen on \(address): Address already in use")
        }
    }

    @Test func stoppedMeansRefused() throws {
        let (server, address) = try Self.start()
        server.stop()
        #expect(throws: StatusServerError.self) { try StatusClient.get(address, path: "/hello") }
    }

    /// Sends `text` and reads until the server closes.
    static func raw(_ address: ListenAddress, _ text: String) -> String {
        guard let client = try? RawClient(address) else { return "connect failed" }
        _ = client.send(Array(text.utf8))
        return client.readToEnd(timeout: .seconds(10))
    }
}
