import NamedThreads
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server for probes and scrapes: one thread, one request
/// per connection, answered by `handler`. Built on POSIX sockets because it
/// serves three tiny GETs; a slow client holds it at most `ioTimeout`.
public final class StatusServer: @unchecked Sendable {
    // @unchecked: `listener` is written by start() before the accept thread
    // exists and read-only afterwards; `stopped` is set once by stop().
    public let address: ListenAddress
    private let handler: @Sendable (HTTPRequestHead) -> HTTPResponse
    private var listener: Int32 = -1
    private let stopped = Atomic<Bool>(false)
    /// Bound on reading a request and writing its response.
    public var ioTimeout: Duration = .seconds(2)

    public init(address: ListenAddress, handler: @escaping @Sendable (HTTPRequestHead) -> HTTPResponse) {
        self.address = address
        self.handler = handler
    }

    /// Binds and starts serving; returns the port (the one picked when 0 was asked).
    @discardableResult
    public func start() throws(StatusServerError) -> Int {
        let (fd, port) = try address.bindListener()
        listener = fd
        startThread(named: "busd-http") { [self] in acceptLoop() }
        return port
    }

    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if listener >= 0 {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring) {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if stopped.load(ordering: .acquiring) { return }
                usleep(50_000)
                continue
            }
            serve(fd)
            close(fd)
        }
    }

    private func serve(_ fd: Int32) {
        var timeout = timeval(tv_sec: Int(ioTimeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            received += chunk[0..<n]
            switch HTTPRequestHead.parse(received) {
            case .incomplete:
                continue
            case .invalid(let reason):
                write(fd, HTTPResponse.text(400, reason).encoded())
                return
            case .complete(let head):
                guard head.method == "GET" || head.method == "HEAD" else {
                    write(fd, HTTPResponse.text(405, "only GET and HEAD").encoded())
                    return
                }
                write(fd, handler(head).encoded(includeBody: head.method == "GET"))
                return
            }
        }
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}
