import Hiredis

/// Which master serves each hash slot, from `CLUSTER SLOTS`.
///
/// What the cluster sends is not trusted: an entry with a slot outside
/// 0…16383, a range that runs backwards, a port outside 1…65535 or a host
/// that is not text is skipped and counted in ``skippedEntries``.
struct ClusterTopology: Sendable, Hashable {
    /// Each master once, in the order first seen.
    private(set) var masters: [RedisConnection.Endpoint] = []
    /// Each replica once.
    private(set) var replicas: [RedisConnection.Endpoint] = []
    /// Index into ``masters`` per slot; -1 where no master serves it.
    private var owners = [Int32](repeating: -1, count: ClusterKeySlot.count)
    private(set) var skippedEntries = 0

    init() {}

    /// Parses a `CLUSTER SLOTS` reply. A node listed with no host (`""` or
    /// `?`, Redis 7's "unknown endpoint") is taken to be on `answeringHost`.
    init(slotsReply reply: RedisReply, answeringHost: String) throws(RedisError) {
        guard case .array(let entries) = reply else {
            throw RedisError(.protocolError, "unexpected reply to CLUSTER SLOTS: \(reply)")
        }
        for entry in entries {
            guard case .array(let fields) = entry, fields.count >= 3,
                let start = fields[0].integer, let end = fields[1].integer,
                start >= 0, start <= end, end < Int64(ClusterKeySlot.count),
                let master = Self.endpoint(fields[2], answeringHost: answeringHost)
            else {
                skippedEntries += 1
                continue
            }
            let index =
                masters.firstIndex(of: master)
                ?? {
                    masters.append(master)
                    return masters.count - 1
                }()
            for slot in Int(start)...Int(end) { owners[slot] = Int32(truncatingIfNeeded: index) }
            for field in fields.dropFirst(3) {
                guard let replica = Self.endpoint(field, answeringHost: answeringHost) else {
                    skippedEntries += 1
                    continue
                }
                if !replicas.contains(replica) { replicas.append(replica) }
            }
        }
        guard !masters.isEmpty else {
            throw RedisError(.protocolError, "CLUSTER SLOTS named no usable master: \(reply)")
        }
    }

    /// The master serving `slot`; nil when none does (or the slot is out of range).
    func master(ofSlot slot: Int) -> RedisConnection.Endpoint? {
        guard owners.indices.contains(slot) else { return nil }
        let index = Int(owners[slot])
        return masters.indices.contains(index) ? masters[index] : nil
    }

    /// Every node, masters first.
    var allNodes: [RedisConnection.Endpoint] { masters + replicas.filter { !masters.contains($0) } }

    /// Slots with no master (a cluster that is not fully covered).
    var unservedSlots: Int { owners.reduce(0) { $0 + ($1 < 0 ? 1 : 0) } }

    /// Records a `MOVED` answer: `slot` is served by `endpoint` now.
    mutating func move(slot: Int, to endpoint: RedisConnection.Endpoint) {
        guard owners.indices.contains(slot) else { return }
        let index =
            masters.firstIndex(of: endpoint)
            ?? {
                masters.append(endpoint)
                return masters.count - 1
            }()
        guard index <= Int(Int32.max) else { return }
        owners[slot] = Int32(index)
    }

    /// `[host, port, id, ...]` as an endpoint; nil when unusable.
    private static func endpoint(_ field: RedisReply, answeringHost: String) -> RedisConnection.Endpoint? {
        guard case .array(let parts) = field, parts.count >= 2, let host = parts[0].string,
            let port = parts[1].integer, port >= 1, port <= 65535
        else { return nil }
        return .tcp(host: host.isEmpty || host == "?" ? answeringHost : host, port: Int(port))
    }
}
