public import Hiredis
import Synchronization

/// The cluster nodes this process last learnt of, per configuration: where a
/// connection that lost its node (a subscriber whose master died) looks for
/// another, when the URL names only that node.
public final class ClusterNodeBook: Sendable {
    public struct Nodes: Sendable, Hashable {
        public var masters: [RedisConnection.Endpoint] = []
        public var replicas: [RedisConnection.Endpoint] = []
    }

    public static let shared = ClusterNodeBook()

    private let book = Mutex<[RedisConfiguration: Nodes]>([:])

    public func nodes(of configuration: RedisConfiguration) -> Nodes {
        book.withLock { $0[configuration] ?? Nodes() }
    }

    func record(_ topology: ClusterTopology, for configuration: RedisConfiguration) {
        let nodes = Nodes(masters: topology.masters, replicas: topology.replicas)
        book.withLock { $0[configuration] = nodes }
    }
}
