import Foundation
public import LocalProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// A connector stand-in speaking the local protocol over a real Unix socket.
public final class TestNodeClient {
    public let fd: Int32
    var decoder = LocalFrameDecoder()

    public init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    private var isOpen = true

    deinit { disconnect() }

    /// Closes the connection (once: a second close could hit a descriptor
    /// number another test has been given since).
    public func disconnect() {
        guard isOpen else { return }
        isOpen = false
        close(fd)
    }

    /// (A test frame that cannot be encoded is a bug in the test.)
    public func send(_ frame: LocalFrame) {
        do {
            sendRaw(try frame.encoded)
        } catch {
            fatalError("test frame cannot be encoded: \(error)")
        }
    }

    public func sendRaw(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The next frame, or nil after `timeout` (or when the peer closed).
    public func receive(timeout: Duration = .seconds(3)) throws -> LocalFrame? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let frame = try decoder.next() { return frame }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - clock.now
            guard left > .zero else { return nil }
            guard
                poll(
                    &pfd,
                    1,
                    Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
                ) > 0
            else { return nil }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            decoder.append(chunk[0..<n])
        }
    }

    /// True when the peer closed the connection.
    public func isClosedByPeer(timeout: Duration = .seconds(3)) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout.components.seconds * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 0
    }

    public func handshake() throws -> LocalFrame? {
        send(.hello(version: 1, node: "test-node", pid: 1))
        return try receive()
    }
}
