import ClusterRequests
import Synchronization

extension ClusterMember {
    /// Whether a broadcast on `<key>#<namespace>#[<room>#]` can reach a
    /// local socket, from the channel name alone (router thread).
    ///
    /// The broadcast channels carry broadcasts only (requests and responses
    /// have channels of their own), so what this drops was only ever for
    /// local delivery:
    /// - v1 node, or none, and a v2 node that asked for it (CLUSTER_REQUEST
    ///   kind 10: its SOCKET_CONNECT and ROOMS_JOIN are written before the
    ///   call that made them returns): a namespace where the registry has no
    ///   socket, a room where it has no member;
    /// - another v2 node: it picks the targets by its own rooms when the
    ///   frame arrives, and may hold its frames a while before writing them
    ///   (the Python connector's threaded manager writes from its link
    ///   thread), so only a namespace it never announced (no adapter there)
    ///   is dropped.
    ///
    /// The fence. A node may write a join and then, without waiting for an
    /// answer, publish (or have published) a broadcast to that room: the
    /// broadcast is causally after the join, and must not be dropped because
    /// busd's reader has not applied the join yet. The join's bytes were in
    /// the link's socket before the broadcast was published, so before the
    /// router took the batch holding it. Asked after that (here once per
    /// batch, at its first drop; the subscriber's reader, which drops most
    /// misses before the router sees them, asks once per read:
    /// ReaderChannelFilter.swift), the link shows no unread bytes (FIONREAD 0) and
    /// then every read begun applied: the read that took the join's bytes
    /// had begun before the socket showed none (the reader counts a read
    /// before its read(2), LinkReadFence.swift), so it is among the reads
    /// found applied, and the registry read after the fence has the join.
    /// When either fails the batch drops nothing: a v1 node's broadcasts are
    /// decoded and routed as before, a v2 node's go to it as
    /// DELIVER_TO_ROOMS, where its own rooms decide.
    ///
    /// A room an APPLY told the node to join is kept a while
    /// (``PendingRoomJoins``): the node reports the sockets it joined only
    /// once it has read the frame.
    func mayHaveTargets(namespace: String, room: String?) -> Bool {
        channelRule.hasTargets(namespace: namespace, room: room, cache: &lastChannelCheck)
            || pendingRoomJoins.holds(namespace: namespace, room: room)
            || !fenceAllowsDrop(namespace: namespace, room: room)
    }

    /// CLUSTER_REQUEST kind 10, REGISTRY_FILTER (docs/local-protocol-v2.md):
    /// the v2 node writes its SOCKET_CONNECT and ROOMS_JOIN to the link
    /// before the call that made them returns, and asks busd to drop by its
    /// registry. Answered at once, `{"filters":true}`; a busd without it
    /// answers ERROR 6 (it knows kinds 1 to 9).
    static let registryFilterKind: UInt8 = 10

    /// A miss: whether the fence lets it be dropped (off the routed path).
    @inline(never)
    private func fenceAllowsDrop(namespace: String, room: String?) -> Bool {
        // (The benchmarks' route(channel:payload:) has no subscriber: take 0.)
        let take = subscriber?.routerTakes ?? 0
        if take == fenceTake {
            // The fence was asked before the check's generation was loaded:
            // its answer saw the registry as it was after the fence, or later.
            if !fenceSettled { counters.keptByLinkFence.add(1, ordering: .relaxed) }
            return fenceSettled
        }
        fenceTake = take
        fenceSettled = linkReadFence.isSettled()
        guard fenceSettled else {
            counters.keptByLinkFence.add(1, ordering: .relaxed)
            return false
        }
        // Again, now behind the fence: the answer may predate it.
        return !channelRule.hasTargets(namespace: namespace, room: room, cache: &lastChannelCheck)
    }
}
