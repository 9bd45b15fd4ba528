import Synchronization

/// The namespaces the node said it serves (NAMESPACE frames) or connected
/// sockets in, for the subscriber's drop by channel name for a v2 node that
/// has not asked for the registry's filter (CLUSTER_REQUEST kind 10,
/// ClusterMember+ChannelFilter.swift): such a node picks a broadcast's
/// targets by its own rooms when the frame arrives, so busd may drop a
/// broadcast before decoding only for a namespace the node has no adapter
/// for (one subscribed from `node.namespaces` alone).
///
/// Emptied when the last session ends: a v2 connector announces every
/// namespace it serves again after each WELCOME.
final class ServedNamespaces: Sendable {
    private let names = Mutex<Set<String>>([])
    private let changes = Atomic<UInt64>(0)

    func insert(_ namespace: String) {
        names.withLock { names in
            if names.insert(namespace).inserted { changes.add(1, ordering: .releasing) }
        }
    }

    /// The node is gone: what it announced is no longer served.
    func removeAll() {
        names.withLock { names in
            guard !names.isEmpty else { return }
            names = []
            changes.add(1, ordering: .releasing)
        }
    }

    /// Whether `namespace` was announced, with the generation it saw.
    func contains(_ namespace: String) -> (Bool, generation: UInt64) {
        names.withLock { ($0.contains(namespace), changes.load(ordering: .acquiring)) }
    }

    /// Moves on whenever the set changes: a cached answer with an older one is stale.
    var generation: UInt64 { changes.load(ordering: .acquiring) }
}
