import Glibc
import Hiredis
import Synchronization

extension AdapterSubscriber {
    /// Sends SSUBSCRIBE for sharded channels not sent yet on this connection
    /// and SUNSUBSCRIBE for those dropped; true when it queued any.
    ///
    /// One command per channel: in a Redis Cluster the channels of one
    /// SSUBSCRIBE must share a slot, and each must reach the node owning its
    /// slot (``ShardLinks``).
    func updateShardChannels(_ connection: RedisConnection) throws(RedisError) -> Bool {
        let (wanted, dropped) = shardChannelChanges()
        if wanted.isEmpty && dropped.isEmpty { return false }
        if let shardLinks {
            // A cluster: on the masters of their slots, flushed there.
            routeShardChannels(shardLinks, wanted: wanted, dropped: dropped)
            return false
        }
        for channel in dropped { try connection.append(["SUNSUBSCRIBE", channel]) }
        for channel in wanted { try connection.append(["SSUBSCRIBE", channel]) }
        return true
    }

    /// Writes SSUBSCRIBE of `channels` on the subscriber's socket now, from
    /// the caller's thread: a stock node sends it inside `join()`, so a
    /// broadcast another server publishes right after the join finds the
    /// room subscribed; a hop to the subscriber thread first loses some.
    /// Without a connection they go out when it is made.
    func sendNow(shardChannels channels: [String]) {
        directWrite.withLock { fd in
            guard fd >= 0 else { return }
            for channel in claimShardChannels(channels) {
                // On a cluster there is no direct socket (fd is -1): the wake-up
                // has the subscriber thread send it on the slot owner's link.
                guard Self.writeAll(fd, Self.command(["SSUBSCRIBE", channel])) else {
                    // A command cut in the middle would garble the stream: end the
                    // connection; the subscriber reconnects and resubscribes all.
                    shutdown(fd, Int32(SHUT_RDWR))
                    fd = -1
                    return
                }
            }
        }
    }

    static func command(_ arguments: [String]) -> [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            let utf8 = Array(argument.utf8)
            bytes += Array("$\(utf8.count)\r\n".utf8) + utf8 + [13, 10]
        }
        return bytes
    }

    /// The whole of `bytes`, waiting (up to a second in all) while the socket is full.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        var waits = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                offset += n
                continue
            }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR, waits < 100 else { return false }
            waits += 1
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, 10)
        }
        return true
    }
}
