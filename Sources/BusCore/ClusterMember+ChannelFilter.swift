import ClusterRequests

/// The answer of the last broadcast channel's check, reused while the
/// channel, the generation it saw and the node's presence stay the same
/// (no lock, no hashing per message meanwhile).
struct ChannelCheck {
    var present: Bool
    var generation: UInt64
    var presence: NodePresence
}

extension ClusterMember {
    /// Whether a broadcast on `<key>#<namespace>#[<room>#]` can reach a
    /// local socket, from the channel name alone (router thread).
    ///
    /// The broadcast channels carry broadcasts only (requests and responses
    /// have channels of their own), so what this drops was only ever for
    /// local delivery:
    /// - v1 node, or none: busd's registry picks the targets, and picks none
    ///   in a namespace without sockets or a room without members;
    /// - v2 node: it picks the targets by its own rooms when the frame
    ///   arrives, so only a namespace it never announced (no adapter there)
    ///   is dropped.
    func mayHaveTargets(namespace: String, room: String?) -> Bool {
        let presence = nodePresence
        let generation = presence == .v2 ? servedNamespaces.generation : registry.generation
        if let last = lastChannelCheck, last.generation == generation, last.presence == presence {
            return last.present
        }
        let (present, seen): (Bool, UInt64)
        if presence == .v2 {
            (present, seen) = servedNamespaces.contains(namespace)
        } else if let room {
            (present, seen) = registry.read { $0.hasRoom(room, namespace: namespace) }
        } else {
            (present, seen) = registry.read { $0.hasSockets(namespace: namespace) }
        }
        lastChannelCheck = ChannelCheck(present: present, generation: seen, presence: presence)
        return present
    }
}
