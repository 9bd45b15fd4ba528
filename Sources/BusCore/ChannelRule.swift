import ClusterRequests
import Synchronization

/// The answer of the last broadcast channel's check, reused while the
/// channel, the rule and the generation it saw stay the same (no lock, no
/// hashing per message meanwhile).
struct ChannelCheck {
    var present: Bool
    var byRegistry: Bool
    var generation: UInt64
}

/// Whether a broadcast on `<key>#<namespace>#[<room>#]` can reach a local
/// socket, from the channel name alone: the rule the router and the
/// subscriber's reader share (ClusterMember+ChannelFilter.swift says which
/// node is filtered how, and why a drop also needs the fence).
///
/// Its own object, not the member's: the reader holds it for every message,
/// and the member, which closures reference weakly, has its reference counts
/// in a side table (a retain and release cost ~125 instructions there).
final class ChannelRule: Sendable {
    let registry: GuardedRegistry
    let servedNamespaces: ServedNamespaces
    let pendingRoomJoins: PendingRoomJoins
    let linkReadFence: LinkReadFence
    /// The local protocol version of the node's session, 0 without a node
    /// (see ClusterMember+NodeFrames.swift).
    let nodeProtocolVersion = Atomic<UInt16>(0)
    /// Every ready v2 session asked for the registry's filter (kind 10).
    let registryFilterForVersion2 = Atomic<Bool>(false)

    init(
        registry: GuardedRegistry,
        servedNamespaces: ServedNamespaces,
        pendingRoomJoins: PendingRoomJoins,
        linkReadFence: LinkReadFence
    ) {
        self.registry = registry
        self.servedNamespaces = servedNamespaces
        self.pendingRoomJoins = pendingRoomJoins
        self.linkReadFence = linkReadFence
    }

    /// Whom busd answers for, from the node's session version.
    var nodePresence: NodePresence {
        switch nodeProtocolVersion.load(ordering: .acquiring) {
        case 0: return .absent
        case 1: return .v1
        default: return .v2
        }
    }

    /// Whether the drop goes by the registry (a v1 node, none, or a v2 node
    /// that asked) rather than by the namespaces a v2 node announced.
    var dropsByRegistry: Bool {
        nodePresence != .v2 || registryFilterForVersion2.load(ordering: .acquiring)
    }

    /// The generation the answer for `byRegistry` depends on.
    @inline(__always)
    func generation(byRegistry: Bool) -> UInt64 {
        byRegistry ? registry.generation : servedNamespaces.generation
    }

    /// The check itself, without the fence: cached in `cache` (the calling
    /// thread's own) while the rule and its generation stay the same.
    @inline(__always)
    func hasTargets(namespace: String, room: String?, cache: inout ChannelCheck?) -> Bool {
        let byRegistry = dropsByRegistry
        if let last = cache, last.generation == generation(byRegistry: byRegistry), last.byRegistry == byRegistry {
            return last.present
        }
        let (present, seen): (Bool, UInt64)
        if !byRegistry {
            (present, seen) = servedNamespaces.contains(namespace)
        } else if let room {
            (present, seen) = registry.read { $0.hasRoom(room, namespace: namespace) }
        } else {
            (present, seen) = registry.read { $0.hasSockets(namespace: namespace) }
        }
        cache = ChannelCheck(present: present, byRegistry: byRegistry, generation: seen)
        return present
    }
}
