import BusCore
import StatusHTTP

/// What one refresh of `busctl top` shows: plain values, so that the
/// renderer is a function of them (and tested with tables of them).
struct TopView: Sendable, Equatable {
    enum Readiness: Sendable, Equatable {
        case ready
        case notReady([String])
        case unknown
    }

    struct Node: Sendable, Equatable {
        var id: String
        var isAlive: Bool
        var host = "-"
        var pid = "-"
        var sockets = "-"
        var uptime = "-"
        var version = "-"
    }

    /// busd's figures on Redis (its own connections, not busctl's).
    struct Redis: Sendable, Equatable {
        var connected: Bool?
        var unreachableSeconds: Double?
        var reconnects: Double?
        var dataLoss: Double?
        var outboundBuffered: Double?
        var outboundLimit: Double?
    }

    var address: String
    var clock: String
    var intervalText: String
    /// The span of the sparklines, as their heading says it.
    var historyText = "last 30 s"
    /// busd's node id, uid, version and uptime; nil before busd was read.
    var node: String?
    var identity = ""
    var readiness = Readiness.unknown
    /// Why busd could not be read at this refresh.
    var busdError: String?
    var rates: [TopRate] = []
    var redis = Redis()
    var linkConnections: Double?
    var nodeSocketCount: Double?
    /// Some of the node's socket ids from the registry (sorted); nil when not read.
    var nodeSockets: [String]?
    var registrySocketCount: Int?
    /// The cluster's registered nodes; nil when Redis could not be read.
    var nodes: [Node]?
    /// Why busctl could not read the registry at this refresh.
    var registryError: String?
}

extension TopView {
    /// The view of a page of busd's /metrics and its /readyz answer.
    mutating func apply(samples: [PrometheusSample], ready: StatusClient.Response, nowSeconds: Double) {
        func value(_ name: String) -> Double? { samples.first { $0.name == name }?.value }
        let info = samples.first { $0.name == "socketbus_info" }?.labels ?? [:]
        node = info["node"]
        var uptime = "-"
        if let started = value("socketbus_start_time_seconds"), started.isFinite, nowSeconds.isFinite,
            abs(nowSeconds - started) < 1e12
        {
            uptime = Durations.human(Int64((nowSeconds - started) * 1000))
        }
        identity = "uid \(info["uid"] ?? "-")  version \(info["version"] ?? "-")  up \(uptime)"
        if ready.status == 200 {
            readiness = .ready
        } else {
            let reasons = ready.body.split(separator: "\n").dropFirst()
            readiness = .notReady(reasons.map { String($0.hasPrefix("- ") ? $0.dropFirst(2) : $0) })
        }
        redis = Redis(
            connected: value("socketbus_redis_connected").map { $0 == 1 },
            unreachableSeconds: value("socketbus_redis_unreachable_seconds"),
            reconnects: value("socketbus_redis_reconnects_total"),
            dataLoss: value("socketbus_redis_data_loss_total"),
            outboundBuffered: value("socketbus_outbound_buffered"),
            outboundLimit: value("socketbus_outbound_buffer_limit")
        )
        linkConnections = value("socketbus_local_connections")
        nodeSocketCount = value("socketbus_registry_sockets")
    }

    /// The registry's nodes as rows, `nowMilliseconds` giving their uptimes.
    static func nodes(_ statuses: [RegistryLookup.NodeStatus], nowMilliseconds: Int64) -> [Node] {
        statuses.map { status in
            guard let record = status.record else { return Node(id: status.id, isAlive: false) }
            return Node(
                id: status.id,
                isAlive: true,
                host: record.host,
                pid: String(record.pid),
                sockets: String(record.sockets),
                uptime: Durations.human(nowMilliseconds &- record.startedAt),
                version: record.version
            )
        }
    }
}
