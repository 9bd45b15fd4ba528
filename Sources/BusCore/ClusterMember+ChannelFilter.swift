import ClusterRequests
import Synchronization

/// The answer of the last broadcast channel's check, reused while the
/// channel and the registry generation it saw stay the same (no lock, no
/// hashing per message meanwhile).
struct ChannelCheck {
    var present: Bool
    var generation: UInt64
}

extension ClusterMember {
    /// Whether a broadcast on `<key>#<namespace>#[<room>#]` can reach a
    /// local socket, from the channel name alone (router thread): false
    /// when the registry has no socket in the namespace, or no member of the
    /// room, and the node link has applied everything its node wrote.
    ///
    /// The broadcast channels carry broadcasts only (requests and responses
    /// have channels of their own), so what this drops was only ever for
    /// local delivery. The registry knows the sockets and rooms of a v1 and
    /// of a v2 node alike (SOCKET_CONNECT, SOCKET_JOIN, ROOMS_JOIN).
    ///
    /// The fence. A node may write a join and then, without waiting for an
    /// answer, publish (or have published) a broadcast to that room: the
    /// broadcast is causally after the join, and must not be dropped because
    /// busd's reader has not applied the join yet. The join's bytes were in
    /// the link's socket before the broadcast was published, so before the
    /// router took the batch holding it. Asked after that (once per batch,
    /// at its first drop), the link shows no unread bytes (FIONREAD 0) and
    /// then every read begun applied: the read that took the join's bytes
    /// had begun before the socket showed none (the reader counts a read
    /// before its read(2), LinkReadFence.swift), so it is among the reads
    /// found applied, and the registry read after the fence has the join.
    /// When either fails the batch drops nothing by the registry: a v1
    /// node's broadcasts are decoded and routed as before, a v2 node's go to
    /// it as DELIVER_TO_ROOMS, where its own rooms decide.
    func mayHaveTargets(namespace: String, room: String?) -> Bool {
        let generation = registry.generation
        let present: Bool
        if let last = lastChannelCheck, last.generation == generation {
            present = last.present
        } else {
            let seen: UInt64
            if let room {
                (present, seen) = registry.read { $0.hasRoom(room, namespace: namespace) }
            } else {
                (present, seen) = registry.read { $0.hasSockets(namespace: namespace) }
            }
            lastChannelCheck = ChannelCheck(present: present, generation: seen)
        }
        if present { return true }
        switch batchFence {
        case true?:
            // The fence was asked before `generation` was loaded: the answer
            // above saw the registry as it was after the fence, or later.
            return false
        case false?:
            counters.keptByLinkFence.add(1, ordering: .relaxed)
            return true
        case nil:
            batchFence = linkReadFence.isSettled()
            // Again, now behind the fence: the answer above may predate it.
            return mayHaveTargets(namespace: namespace, room: room)
        }
    }

    /// The end of the messages the router took from the backlog together:
    /// the next ones ask the fence again.
    func routerBatchEnded() {
        batchFence = nil
        flushCommands()
    }
}
