import NamedThreads
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The status server's one thread: a poll(2) loop over the listener, a
/// wake-up pipe and every open connection. Connections are served side by
/// side, so a slow or silent client costs a slot, never the probes' time;
/// each is closed at its deadline, and at `maximumConnections` the oldest
/// one still sending its head makes room for the new one.
struct StatusEventLoop {
    let listener: Int32
    /// Readable when stop() asks the loop to end.
    let wake: Int32
    let limits: StatusServer.Limits
    let counters: StatusServer.Counters
    let handler: @Sendable (HTTPRequestHead) -> HTTPResponse
    private var connections: [StatusConnection] = []
    /// Progress of this loop, for busd's systemd watchdog.
    let heartbeat: Heartbeat
    /// After EMFILE and the like the listener stays readable: not polled until then.
    private var acceptPausedUntil: ContinuousClock.Instant?

    init(
        listener: Int32,
        wake: Int32,
        limits: StatusServer.Limits,
        counters: StatusServer.Counters,
        handler: @escaping @Sendable (HTTPRequestHead) -> HTTPResponse,
        heartbeat: Heartbeat = Heartbeat(name: "busd-http")
    ) {
        self.heartbeat = heartbeat
        self.listener = listener
        self.wake = wake
        self.limits = limits
        self.counters = counters
        self.handler = handler
    }

    /// Serves until the wake pipe is readable; closes every connection.
    mutating func run() {
        defer {
            for connection in connections { close(connection.fd) }
            connections = []
        }
        while true {
            heartbeat.beat()
            let now = ContinuousClock.now
            closeExpired(now)
            if let paused = acceptPausedUntil, paused <= now { acceptPausedUntil = nil }
            let acceptsNow = acceptPausedUntil == nil
            var fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            fds.append(pollfd(fd: acceptsNow ? listener : -1, events: Int16(POLLIN), revents: 0))
            fds += connections.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds(now))
            guard ready > 0 else {
                // EINTR, a time-out, or ENOMEM: deadlines are checked at the top.
                if ready < 0 && errno != EINTR { usleep(10_000) }
                continue
            }
            if fds[0].revents != 0 { return }
            // Serve what is open before accepting, so the indices still match.
            var index = connections.count - 1
            while index >= 0 {
                let revents = fds[index + 2].revents
                if revents != 0 && step(index, revents) == .close {
                    close(connections[index].fd)
                    connections.remove(at: index)
                }
                index -= 1
            }
            if fds[1].revents != 0 { acceptWaiting() }
        }
    }

    private mutating func step(_ index: Int, _ revents: Int16) -> StatusConnection.Action {
        if revents & Int16(POLLNVAL) != 0 { return .close }
        // POLLHUP/POLLERR: the read or write that follows reports it.
        return connections[index].isReading
            ? connections[index].readable(handler) : connections[index].writable()
    }

    /// Accepts every pending connection and serves each right away: a probe
    /// sends its request with the connection, so most are answered here.
    private mutating func acceptWaiting() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EAGAIN, EWOULDBLOCK: return
                default:
                    // Out of descriptors (EMFILE, ENFILE, ENOBUFS): try again shortly.
                    counters.acceptFailures.add(1, ordering: .relaxed)
                    acceptPausedUntil = .now + .milliseconds(50)
                    return
                }
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            guard makeRoom() else {
                counters.refused.add(1, ordering: .relaxed)
                close(fd)
                continue
            }
            let now = ContinuousClock.now
            var connection = StatusConnection(fd: fd, acceptedAt: now, deadline: now + limits.requestDeadline)
            if connection.readable(handler) == .close {
                close(fd)
            } else {
                connections.append(connection)
            }
        }
    }

    /// Below the limit, or the oldest connection still reading its head was
    /// closed; false when every slot is writing a response (refuse the new one).
    private mutating func makeRoom() -> Bool {
        guard connections.count >= max(1, limits.maximumConnections) else { return true }
        guard
            let oldest = connections.indices.filter({ connections[$0].isReading })
                .min(by: { connections[$0].acceptedAt < connections[$1].acceptedAt })
        else { return false }
        close(connections[oldest].fd)
        connections.remove(at: oldest)
        counters.evicted.add(1, ordering: .relaxed)
        return true
    }

    private mutating func closeExpired(_ now: ContinuousClock.Instant) {
        let before = connections.count
        connections.removeAll { connection in
            guard connection.deadline <= now else { return false }
            close(connection.fd)
            return true
        }
        counters.timedOut.add(before - connections.count, ordering: .relaxed)
    }

    /// Until the nearest deadline (or the end of an accept pause), at least 1 ms.
    private func timeoutMilliseconds(_ now: ContinuousClock.Instant) -> Int32 {
        var next = connections.map(\.deadline).min()
        if let paused = acceptPausedUntil { next = min(next ?? paused, paused) }
        // At most a second: an idle loop still beats its heartbeat.
        guard let next else { return 1000 }
        let milliseconds =
            (next - now).components.seconds * 1000 + (next - now).components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(1, min(milliseconds + 1, 1000)))
    }
}
