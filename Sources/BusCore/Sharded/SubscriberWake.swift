import Glibc
import Hiredis

/// Wakes the subscriber thread out of its wait for Redis at once when there
/// are subscriptions to send: in the sharded adapter's dynamic modes a room
/// channel must be SSUBSCRIBEd as soon as the node's socket joins the room
/// (a stock node sends SSUBSCRIBE in `join()` itself), not at the next poll
/// tick, or broadcasts published to the room meanwhile are missed.
final class SubscriberWake: @unchecked Sendable {
    // @unchecked: a non-blocking pipe, written from any thread, read by the subscriber thread.
    private let fd: Int32
    private let writer: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            ends = [-1, -1]
        }
        fd = ends[0]
        writer = ends[1]
    }

    deinit {
        if fd >= 0 { close(fd) }
        if writer >= 0 { close(writer) }
    }

    func signal() {
        guard writer >= 0 else { return }
        var one: UInt8 = 1
        // A full pipe already means "wake up": nothing to do on EAGAIN.
        _ = write(writer, &one, 1)
    }

    /// Waits until one of `sockets` has data, a signal came or `timeout`
    /// passed; which sockets are readable.
    func waitReadable(sockets: [Int32], timeout: Duration) throws(RedisError) -> [Bool] {
        var fds = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
        let ms = Int32(
            clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        )
        let rc = poll(&fds, nfds_t(fds.count), ms)
        if rc < 0 && errno != EINTR { throw RedisError(.io, "poll: errno \(errno)") }
        if let last = fds.last, last.fd >= 0, last.revents != 0 {
            var drained = [UInt8](repeating: 0, count: 64)
            while read(fd, &drained, drained.count) > 0 {}
        }
        return rc > 0 ? fds.dropLast().map { $0.revents != 0 } : Array(repeating: false, count: sockets.count)
    }

    /// Waits until `connection` has data (true) or a signal came or
    /// `timeout` passed (false).
    func waitReadable(_ connection: RedisConnection, timeout: Duration) throws(RedisError) -> Bool {
        guard fd >= 0 else { return try connection.waitReadable(timeout: timeout) }
        var fds = [
            pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
        ]
        let ms = Int32(
            clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        )
        let rc = poll(&fds, 2, ms)
        if rc < 0 && errno != EINTR { throw RedisError(.io, "poll: errno \(errno)") }
        if fds[1].revents != 0 {
            var drained = [UInt8](repeating: 0, count: 64)
            while read(fd, &drained, drained.count) > 0 {}
        }
        return rc > 0 && fds[0].revents != 0
    }
}
