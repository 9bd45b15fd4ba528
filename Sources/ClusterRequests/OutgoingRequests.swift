import SocketIOCodec

/// The node's calls to the cluster (CLUSTER_REQUEST, BROADCAST_WITH_ACK),
/// published as a stock @socket.io/redis-adapter 8.3 node publishes them:
/// count the servers with NUMSUB, publish, collect the answers by requestId,
/// and reply to the node once, complete or at its time-out with what came.
public struct OutgoingRequests: Sendable {
    public struct Settings: Sendable {
        public var uid: String
        public var channels: ClusterChannels

        public init(uid: String, channels: ClusterChannels = ClusterChannels()) {
            self.uid = uid
            self.channels = channels
        }
    }

    /// A request waiting for NUMSUB.
    struct Counting: Sendable {
        var kind: ClusterRequestKind
        var namespace: String
        var body: JSValue
        var deadline: UInt64
    }

    /// A published request collecting answers.
    struct Collecting: Sendable {
        var request: UInt32
        var kind: ClusterRequestKind
        var expected: Int
        var received = 0
        var values: [JSValue] = []
        /// fetchSockets: each answer's `sockets` array as the JSON text it
        /// came in (or was written to), joined into the reply without parsing.
        var socketArrays: [ArraySlice<UInt8>] = []
        var seen: Set<JSValue> = []
        var deadline: UInt64
    }

    /// The node's acked broadcast relaying counts and acks until `expiry`.
    struct Relaying: Sendable {
        var request: UInt32
        var expiry: UInt64
    }

    public let settings: Settings
    let makeRequestId: @Sendable () -> String
    var counting: [UInt32: Counting] = [:]
    var collecting: [String: Collecting] = [:]
    var relaying: [String: Relaying] = [:]
    var earliest = EarliestDeadline()

    public init(settings: Settings, makeRequestId: @escaping @Sendable () -> String = { RequestIds.random() }) {
        self.settings = settings
        self.makeRequestId = makeRequestId
    }

    /// Whether `requestId` is a fetchSockets busd published, still collecting.
    public func collectsSockets(_ requestId: String) -> Bool { collecting[requestId]?.kind == .fetchSockets }

    /// Whether `requestId` is one busd published (its echo is not answered).
    public func owns(_ requestId: String) -> Bool { collecting[requestId] != nil || relaying[requestId] != nil }

    public var pendingCount: Int { counting.count + collecting.count + relaying.count }

    /// When ``expire(now:)`` may have something to do: at the latest
    /// ``nextDeadline``, possibly earlier; reading it costs nothing.
    public var deadlineHint: UInt64? { earliest.value }

    public var nextDeadline: UInt64? {
        (counting.values.map(\.deadline) + collecting.values.map(\.deadline) + relaying.values.map(\.expiry)).min()
    }

    /// CLUSTER_REQUEST from the node.
    public mutating func request(
        _ request: UInt32,
        kind rawKind: UInt8,
        namespace: String,
        timeoutMilliseconds: UInt32,
        body: [UInt8],
        now: UInt64
    ) -> [ClusterAction] {
        guard let kind = ClusterRequestKind(rawValue: rawKind) else {
            return [Self.failure(request, "unknown cluster request kind \(rawKind)")]
        }
        guard let value = try? JSONText.value(body) else {
            return [Self.failure(request, "the request body is not JSON")]
        }
        let channel = settings.channels.request(namespace)
        switch kind {
        case .socketsJoin, .socketsLeave:
            guard let opts = value["opts"], let rooms = JSONText.rooms(opts["rooms"]),
                let except = JSONText.rooms(opts["except"]), let joined = JSONText.rooms(value["rooms"])
            else { return [Self.failure(request, "expected {opts: {rooms, except}, rooms}")] }
            let payload = RequestEncoding.socketsJoinOrLeave(
                join: kind == .socketsJoin,
                uid: settings.uid,
                rooms: rooms,
                except: except,
                joined: joined
            )
            return [.publish(channel: channel, payload: payload)]
        case .disconnectSockets:
            guard let opts = value["opts"], let rooms = JSONText.rooms(opts["rooms"]),
                let except = JSONText.rooms(opts["except"])
            else { return [Self.failure(request, "expected {opts: {rooms, except}, close}")] }
            let payload = RequestEncoding.disconnectSockets(
                uid: settings.uid,
                rooms: rooms,
                except: except,
                close: value["close"] == .bool(true)
            )
            return [.publish(channel: channel, payload: payload)]
        case .serverSideEmit:
            guard let data = value.arrayValue else { return [Self.failure(request, "expected [event, ...args]")] }
            return [
                .publish(
                    channel: channel,
                    payload: RequestEncoding.serverSideEmit(uid: settings.uid, requestId: nil, data: data)
                )
            ]
        case .fetchSockets:
            guard JSONText.rooms(value["rooms"]) != nil, JSONText.rooms(value["except"]) != nil else {
                return [Self.failure(request, "expected {rooms, except}")]
            }
        case .serverSideEmitWithAck:
            guard value.arrayValue != nil else { return [Self.failure(request, "expected [event, ...args]")] }
        case .serverCount, .allRooms:
            break
        }
        counting[request] = Counting(
            kind: kind,
            namespace: namespace,
            body: value,
            deadline: Deadline.after(now, UInt64(timeoutMilliseconds))
        )
        earliest.note(Deadline.after(now, UInt64(timeoutMilliseconds)))
        return [.countServers(request: request, namespace: namespace)]
    }

    /// The NUMSUB answer (busd's own subscription included: it stands for the node).
    public mutating func serverCount(
        request: UInt32,
        result: Result<Int, ServerCountError>,
        now: UInt64
    ) -> [ClusterAction] {
        guard let waiting = counting.removeValue(forKey: request) else { return [] }
        let servers: Int
        switch result {
        case .failure(let error): return [Self.failure(request, error.message)]
        case .success(let n): servers = n
        }
        let others = max(servers - 1, 0)
        switch waiting.kind {
        case .serverCount:
            return [Self.reply(request, .complete, .object(JSObject([("count", .number(Double(servers)))])))]
        case .fetchSockets, .allRooms, .serverSideEmitWithAck:
            var collector = Collecting(
                request: request,
                kind: waiting.kind,
                expected: others,
                deadline: waiting.deadline
            )
            guard others > 0 else { return [reply(collector, .complete)] }
            var requestId = makeRequestId()
            while collecting[requestId] != nil || relaying[requestId] != nil { requestId = makeRequestId() }
            let payload: [UInt8]
            switch waiting.kind {
            case .fetchSockets:
                payload = RequestEncoding.remoteFetch(
                    uid: settings.uid,
                    requestId: requestId,
                    rooms: JSONText.rooms(waiting.body["rooms"]) ?? [],
                    except: JSONText.rooms(waiting.body["except"]) ?? []
                )
            case .allRooms:
                payload = RequestEncoding.allRooms(uid: settings.uid, requestId: requestId)
            default:
                payload = RequestEncoding.serverSideEmit(
                    uid: settings.uid,
                    requestId: requestId,
                    data: waiting.body.arrayValue ?? []
                )
            }
            if waiting.deadline <= now { return [reply(collector, .timedOut)] }
            collector.received = 0
            collecting[requestId] = collector
            return [.publish(channel: settings.channels.request(waiting.namespace), payload: payload)]
        default:
            return []
        }
    }
}

/// Why the servers could not be counted (a Redis error reply, no connection).
public struct ServerCountError: Error, Sendable, Hashable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }
}
