import Dispatch
import NamedThreads
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server for probes and scrapes: one request per
/// connection, answered by `handler` (which must not block: it runs on the
/// server's thread). Built on POSIX sockets because it serves three tiny
/// GETs; one thread polls every connection (StatusEventLoop), so neither a
/// slow client nor a pile of silent ones delays `/healthz`.
public final class StatusServer: @unchecked Sendable {
    // @unchecked: `limits` is set before start(); `running` is guarded by its
    // mutex; the counters are atomics.
    public let address: ListenAddress
    private let handler: @Sendable (HTTPRequestHead) -> HTTPResponse
    private let running = Mutex<Running?>(nil)
    private let counters = Counters()
    /// Read by start(); later changes do not apply.
    public var limits = Limits()

    public struct Limits: Sendable {
        /// Bound on the whole request: from accept to the last byte of the
        /// response. Not reset by bytes arriving, so a drip cannot extend it.
        public var requestDeadline: Duration = .seconds(2)
        /// Open connections at most; a new one beyond closes the oldest
        /// still sending its head, or is closed at once.
        public var maximumConnections = 64

        public init() {}
    }

    /// Connections cut short, for /metrics.
    public struct DroppedConnections: Sendable, Hashable {
        /// Closed at the request deadline.
        public var timedOut = 0
        /// Closed to make room for a newer connection.
        public var evicted = 0
        /// Closed on arrival: every slot was writing a response.
        public var refused = 0
        /// accept() failed (out of file descriptors and the like).
        public var acceptFailures = 0

        public init() {}
    }

    public var droppedConnections: DroppedConnections {
        var dropped = DroppedConnections()
        dropped.timedOut = counters.timedOut.load(ordering: .relaxed)
        dropped.evicted = counters.evicted.load(ordering: .relaxed)
        dropped.refused = counters.refused.load(ordering: .relaxed)
        dropped.acceptFailures = counters.acceptFailures.load(ordering: .relaxed)
        return dropped
    }

    /// Written by the loop's thread.
    final class Counters: Sendable {
        let timedOut = Atomic<Int>(0)
        let evicted = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        let acceptFailures = Atomic<Int>(0)
    }

    private struct Running {
        var listener: Int32
        var wakeWriter: Int32
        var finished: DispatchSemaphore
    }

    public init(address: ListenAddress, handler: @escaping @Sendable (HTTPRequestHead) -> HTTPResponse) {
        self.address = address
        self.handler = handler
    }

    /// Binds and starts serving; returns the port (the one picked when 0 was asked).
    @discardableResult
    public func start() throws(StatusServerError) -> Int {
        let (listener, port) = try address.bindListener()
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            close(listener)
            throw StatusServerError("pipe() failed: \(String(cString: strerror(errno)))")
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let finished = DispatchSemaphore(value: 0)
        running.withLock { $0 = Running(listener: listener, wakeWriter: pipeEnds[1], finished: finished) }
        let (wakeReader, limits, counters, handler) = (pipeEnds[0], limits, counters, handler)
        let heartbeat = Heartbeat(name: "busd-http")
        startThread(named: "busd-http", heartbeat: heartbeat) {
            var loop = StatusEventLoop(
                listener: listener,
                wake: wakeReader,
                limits: limits,
                counters: counters,
                handler: handler,
                heartbeat: heartbeat
            )
            loop.run()
            close(listener)
            close(wakeReader)
            finished.signal()
        }
        return port
    }

    /// Ends the loop; returns once the listener and every connection are
    /// closed (new connections are refused from then on).
    public func stop() {
        let taken = running.withLock { state -> Running? in
            let current = state
            state = nil
            return current
        }
        guard let stopping = taken else { return }
        var byte: UInt8 = 1
        _ = write(stopping.wakeWriter, &byte, 1)
        // The handler never blocks, so the loop is back in poll within a moment.
        _ = stopping.finished.wait(timeout: .now() + .seconds(2))
        close(stopping.wakeWriter)
    }
}
