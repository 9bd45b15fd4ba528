#if canImport(Glibc)
    import Glibc
#endif

/// One accepted connection of the status server: reads a request head,
/// then writes one response and is closed. Non-blocking; the event loop
/// calls `readable()` / `writable()` when poll says so and closes it when
/// an action says `.close` or its deadline passes.
struct StatusConnection {
    enum Action: Equatable {
        /// Wait for the next poll event.
        case wait
        /// Done (answered, failed, or the peer left): close the socket.
        case close
    }

    let fd: Int32
    let acceptedAt: ContinuousClock.Instant
    /// The whole request (head in, response out) must be done by then; a
    /// per-read time-out would let a client dripping one byte at a time
    /// keep the connection for ever.
    let deadline: ContinuousClock.Instant
    private var received: [UInt8] = []
    private var output: [UInt8] = []
    private var written = 0

    init(fd: Int32, acceptedAt: ContinuousClock.Instant, deadline: ContinuousClock.Instant) {
        self.fd = fd
        self.acceptedAt = acceptedAt
        self.deadline = deadline
    }

    /// True until the request head is complete: an idle connection, the
    /// first one evicted when the server is full.
    var isReading: Bool { output.isEmpty }

    /// The poll events this connection waits for.
    var events: Int16 { Int16(isReading ? POLLIN : POLLOUT) }

    /// Reads what arrived; answers (through `handler`) once the head is complete.
    mutating func readable(_ handler: (HTTPRequestHead) -> HTTPResponse) -> Action {
        var chunk = [UInt8](repeating: 0, count: 2048)
        while isReading {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .wait }
            guard n > 0 else { return .close }
            received += chunk[0..<n]
            switch HTTPRequestHead.parse(received) {
            case .incomplete:
                continue
            case .invalid(let reason):
                output = HTTPResponse.text(400, reason).encoded()
            case .complete(let head):
                if head.method == "GET" || head.method == "HEAD" {
                    output = handler(head).encoded(includeBody: head.method == "GET")
                } else {
                    output = HTTPResponse.text(405, "only GET and HEAD").encoded()
                }
            }
            received = []
        }
        return writable()
    }

    /// Writes as much of the response as the socket takes.
    mutating func writable() -> Action {
        while written < output.count {
            let n = output.withUnsafeBytes { bytes -> Int in
                guard let base = bytes.baseAddress else { return 0 }
                return send(fd, base + written, bytes.count - written, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .wait }
            guard n > 0 else { return .close }
            written += n
        }
        return .close
    }
}
