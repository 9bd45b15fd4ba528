import BusCore
import Foundation
import Hiredis
import StatusHTTP

/// Where `busctl top` reads its figures: busd's /readyz and /metrics, and
/// the registry in Redis (its nodes, the node's sockets). A failure is part
/// of the reading, shown in the view; the Redis connection is opened again
/// at the next refresh.
final class TopSource {
    let address: ListenAddress
    private let redis: RedisConfiguration?
    private let keys: RegistryKeys
    private let timeout: Duration
    private var lookup: RegistryLookup?
    /// How many socket ids of the node to fetch for the view.
    static let socketIdsShown = 200

    init(address: ListenAddress, redis: RedisConfiguration?, keys: RegistryKeys, timeout: Duration) {
        self.address = address
        self.redis = redis
        self.keys = keys
        self.timeout = timeout
    }

    /// One refresh: `view` gets busd's figures and the registry; the samples are returned for the rates.
    func read(into view: inout TopView) -> [PrometheusSample]? {
        var samples: [PrometheusSample]?
        do {
            let ready = try StatusClient.get(address, path: "/readyz", timeout: timeout)
            let metrics = try StatusClient.get(address, path: "/metrics", timeout: timeout)
            samples = PrometheusSample.parse(metrics.body)
            view.apply(samples: samples ?? [], ready: ready, nowSeconds: Date().timeIntervalSince1970)
            view.busdError = nil
        } catch {
            view.busdError = "\(error)"
            view.readiness = .unknown
        }
        readRegistry(into: &view)
        return samples
    }

    private func readRegistry(into view: inout TopView) {
        guard let redis else { return }
        do throws(RedisError) {
            let lookup: RegistryLookup
            if let open = self.lookup {
                lookup = open
            } else {
                lookup = RegistryLookup(connection: try RedisClient.connect(redis, timeout: timeout), keys: keys)
                self.lookup = lookup
            }
            do throws(RedisError) {
                view.nodes = TopView.nodes(try lookup.nodes(), nowMilliseconds: unixMilliseconds())
                if let node = view.node {
                    let key = lookup.keys.sockets(of: node)
                    let count = try lookup.connection.command(["SCARD", key]).integer
                    let scan = try lookup.connection.command(["SSCAN", key, "0", "COUNT", String(Self.socketIdsShown)])
                    view.registrySocketCount = count.map { Int(clamping: $0) }
                    view.nodeSockets = (scan.array?.last?.array ?? []).compactMap(\.string).sorted()
                } else {
                    view.nodeSockets = nil
                }
                view.registryError = nil
            } catch {
                // The next refresh connects again (the link may be broken).
                lookup.connection.close()
                self.lookup = nil
                throw error
            }
        } catch {
            view.registryError = error.description
            view.nodes = nil
            view.nodeSockets = nil
        }
    }
}
