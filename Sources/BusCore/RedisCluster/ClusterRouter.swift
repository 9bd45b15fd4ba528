import Foundation
public import Hiredis
import Logging

/// Commands over a Redis Cluster, from one thread (like a RedisConnection):
/// the slot table from `CLUSTER SLOTS`, a connection per node used, each
/// command sent to the master of its key's slot.
///
/// - `MOVED`: the topology is read again and the command retried where it
///   was sent; `ASK`: the command alone is retried there after `ASKING`.
/// - `TRYAGAIN` / `CLUSTERDOWN`: retried a few times, a pause apart, then
///   thrown: an error reply stays an error, never an empty result.
/// - A lost connection is thrown (the command may have run: not retried
///   here); the next command reads the topology again first. Callers treat
///   it as an outage, as they would with one Redis.
public final class ClusterRouter {
    public let configuration: RedisConfiguration
    let timeout: Duration
    let logger: Logger
    private(set) var topology: ClusterTopology
    private var connections: [RedisConnection.Endpoint: RedisConnection] = [:]
    /// A connection failed: read the topology before the next command.
    var stale = false
    static let maxRedirects = 5
    static let retryLaterAttempts = 10
    static let retryLaterPause: Duration = .milliseconds(100)

    /// Takes over `seed` (a connection to a node that said `cluster_enabled:1`).
    init(configuration: RedisConfiguration, seed: RedisConnection, timeout: Duration, logger: Logger) throws(RedisError)
    {
        self.configuration = configuration
        self.timeout = timeout
        self.logger = logger
        connections[seed.endpoint] = seed
        topology = try Self.readTopology(from: seed)
        learnt()
    }

    public func close() {
        for connection in connections.values { connection.close() }
        connections.removeAll()
    }

    /// Every node of the cluster, masters first.
    public var nodes: [RedisConnection.Endpoint] { topology.allNodes }
    public var masters: [RedisConnection.Endpoint] { topology.masters }

    /// The master serving `slot` in the last table read (a `CLUSTERDOWN`
    /// error when none does). For the sharded adapter: open a pub/sub
    /// connection there with `configuration.connect(to:timeout:)` and
    /// `SSUBSCRIBE` the channels of that slot (``ClusterKeySlot/slot(of:)``
    /// of the channel name); `-MOVED` on SSUBSCRIBE means read the table again
    /// (``refreshTopology()``).
    public func masterEndpoint(ofSlot slot: Int) throws(RedisError) -> RedisConnection.Endpoint {
        try master(ofSlot: slot)
    }

    /// The master serving `slot`, connected (this router's command
    /// connection: for SPUBLISH and other commands, never for SSUBSCRIBE).
    public func connection(forSlot slot: Int) throws(RedisError) -> RedisConnection {
        let endpoint = try master(ofSlot: slot)
        return try connection(to: endpoint)
    }

    /// ``connection(forSlot:)`` for the slot of a key or sharded channel name.
    public func connection(forKey key: String) throws(RedisError) -> RedisConnection {
        try connection(forSlot: ClusterKeySlot.slot(of: key))
    }

    /// A connection to `endpoint` (opened, logged in, on first use).
    public func connection(to endpoint: RedisConnection.Endpoint) throws(RedisError) -> RedisConnection {
        if let open = connections[endpoint], open.isOpen { return open }
        do {
            let connection = try configuration.connect(to: endpoint, timeout: timeout)
            connections[endpoint] = connection
            return connection
        } catch {
            stale = true
            throw error
        }
    }

    /// Reads `CLUSTER SLOTS` from the first node that answers: those
    /// connected, those the last table named, then the configured seeds.
    public func refreshTopology() throws(RedisError) {
        var candidates: [RedisConnection.Endpoint] = []
        let connected = connections.filter { $0.value.isOpen }.map(\.key)
        for endpoint in connected + topology.allNodes + configuration.seedEndpoints
        where !candidates.contains(endpoint) {
            candidates.append(endpoint)
        }
        var firstError: RedisError?
        for endpoint in candidates {
            do {
                topology = try Self.readTopology(from: try connection(to: endpoint))
                stale = false
                learnt()
                return
            } catch {
                if error.isAuthenticationFailure { throw error }
                if error.code != .reply { drop(endpoint) }
                if firstError == nil { firstError = error }
            }
        }
        throw firstError ?? RedisError(.io, "no cluster node to read CLUSTER SLOTS from")
    }

    /// Sends one command to the node serving its key, following redirections.
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        if stale { try? refreshTopology() }
        let slot = ClusterCommandKey.slot(of: arguments)
        var target: RedisConnection.Endpoint?
        var asking = false
        var redirects = 0
        var waits = 0
        while true {
            let endpoint: RedisConnection.Endpoint
            if let target { endpoint = target } else { endpoint = try self.endpoint(forSlot: slot) }
            let connection = try self.connection(to: endpoint)
            do {
                if asking {
                    try connection.append(["ASKING"])
                    try connection.append(arguments)
                    _ = try? connection.readReply()
                    return try connection.readReply()
                }
                return try connection.command(arguments)
            } catch {
                guard error.code == .reply else {
                    drop(endpoint)
                    throw error
                }
                guard let redirect = ClusterRedirect(error) else { throw error }
                switch redirect {
                case .moved(let movedSlot, let to):
                    ClusterStatistics.shared.countMoved()
                    redirects += 1
                    guard redirects <= Self.maxRedirects else { throw error.during("after \(redirects) redirections") }
                    let to = Self.resolved(to, answeredBy: endpoint)
                    logger.debug("cluster: MOVED", metadata: ["slot": "\(movedSlot)", "to": "\(to)"])
                    if (try? refreshTopology()) == nil { topology.move(slot: movedSlot, to: to) }
                    target = to
                    asking = false
                case .ask(let askedSlot, let to):
                    ClusterStatistics.shared.countAsk()
                    redirects += 1
                    guard redirects <= Self.maxRedirects else { throw error.during("after \(redirects) redirections") }
                    target = Self.resolved(to, answeredBy: endpoint)
                    logger.debug("cluster: ASK", metadata: ["slot": "\(askedSlot)", "to": "\(to)"])
                    asking = true
                case .retryLater:
                    ClusterStatistics.shared.countRetry()
                    waits += 1
                    guard waits <= Self.retryLaterAttempts else {
                        throw error.during("still after \(waits - 1) retries")
                    }
                    Thread.sleep(forTimeInterval: Self.retryLaterPause.seconds)
                    try? refreshTopology()
                    target = nil
                    asking = false
                }
            }
        }
    }

    /// The master of `slot`, or for a command without a key any node.
    func endpoint(forSlot slot: Int?) throws(RedisError) -> RedisConnection.Endpoint {
        guard let slot else { return try anyNode() }
        return try master(ofSlot: slot)
    }

    func master(ofSlot slot: Int) throws(RedisError) -> RedisConnection.Endpoint {
        guard let endpoint = topology.master(ofSlot: slot) else {
            stale = true
            throw RedisError(.reply, "CLUSTERDOWN no master serves hash slot \(slot) (CLUSTER SLOTS)")
        }
        return endpoint
    }

    /// For a command without a key: a node already connected, else the
    /// first that accepts a connection.
    func anyNode() throws(RedisError) -> RedisConnection.Endpoint {
        if let open = topology.allNodes.first(where: { connections[$0]?.isOpen == true }) { return open }
        var firstError: RedisError?
        for endpoint in topology.allNodes {
            do {
                _ = try connection(to: endpoint)
                return endpoint
            } catch {
                if error.isAuthenticationFailure { throw error }
                if firstError == nil { firstError = error }
            }
        }
        throw firstError ?? RedisError(.io, "no cluster node known")
    }

    func drop(_ endpoint: RedisConnection.Endpoint) {
        connections.removeValue(forKey: endpoint)?.close()
        stale = true
    }

    private func learnt() {
        ClusterNodeBook.shared.record(topology, for: configuration)
        ClusterStatistics.shared.countTopology(skipped: topology.skippedEntries)
        if topology.skippedEntries > 0 {
            logger.warning(
                "cluster: CLUSTER SLOTS entries skipped (bad slot range, port or host)",
                metadata: ["skipped": "\(topology.skippedEntries)"]
            )
        }
        // Connections to nodes that left the table are closed.
        let known = Set(topology.allNodes)
        for endpoint in connections.keys where !known.contains(endpoint) {
            connections.removeValue(forKey: endpoint)?.close()
        }
    }

    static func readTopology(from connection: RedisConnection) throws(RedisError) -> ClusterTopology {
        try ClusterTopology(
            slotsReply: connection.command(["CLUSTER", "SLOTS"]),
            answeringHost: host(of: connection.endpoint)
        )
    }

    static func host(of endpoint: RedisConnection.Endpoint) -> String {
        if case .tcp(let host, _) = endpoint { return host }
        return "127.0.0.1"
    }

    /// A redirection with no host is to the host of the node that answered.
    static func resolved(_ to: RedisConnection.Endpoint, answeredBy: RedisConnection.Endpoint)
        -> RedisConnection.Endpoint
    {
        if case .tcp(let host, let port) = to, host.isEmpty { return .tcp(host: Self.host(of: answeredBy), port: port) }
        return to
    }
}
