public import SocketIOCodec

/// Requests from other servers and emitters (`<key>-request#<nsp>#`), answered
/// as a stock @socket.io/redis-adapter 8.3 node answers them (socket.io-redis
/// 5.x for the legacy `requestid` forms): what the registry knows at once,
/// what only the node knows through a QUESTION, and, when the node stays
/// silent past `nodeAnswerTimeout`, what an empty node would say.
///
/// A value type: each event in, the actions out; times are milliseconds on a
/// monotonic clock given by the caller.
public struct IncomingRequests: Sendable {
    public struct Settings: Sendable {
        /// This busd's adapter uid (SERVER_SIDE_EMIT self-filter).
        public var uid: String
        public var channels: ClusterChannels
        /// How long busd waits for ANSWER or DELIVERED.
        public var nodeAnswerTimeoutMilliseconds: UInt64 = 2000
        /// How long an acked broadcast waits for client acks when its
        /// requester sent no `flags.timeout`.
        public var ackRetentionMilliseconds: UInt64 = 30_000

        public init(uid: String, channels: ClusterChannels = ClusterChannels()) {
            self.uid = uid
            self.channels = channels
        }
    }

    struct PendingQuestion: Sendable {
        var kind: QuestionKind
        var namespace: String
        var requestId: String
        var deadline: UInt64
    }

    struct PendingBroadcast: Sendable {
        var requestId: String
        var namespace: String
        /// Type 8 was published.
        var counted: Bool
        var countDeadline: UInt64
        var expiry: UInt64
    }

    public let settings: Settings
    var questions: [UInt32: PendingQuestion] = [:]
    var broadcasts: [UInt64: PendingBroadcast] = [:]
    var earliest = EarliestDeadline()
    private var lastQuestion: UInt32 = 0

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Questions the node has not answered yet.
    public var pendingQuestions: Int { questions.count }
    /// Acked broadcasts still relaying client acks.
    public var pendingBroadcasts: Int { broadcasts.count }

    /// When ``expire(now:)`` may have something to do: at the latest
    /// ``nextDeadline``, possibly earlier; reading it costs nothing.
    public var deadlineHint: UInt64? { earliest.value }

    /// The earliest time ``expire(now:)`` has something to do.
    public var nextDeadline: UInt64? {
        let q = questions.values.map(\.deadline).min()
        let b = broadcasts.values.map { $0.counted ? $0.expiry : min($0.countDeadline, $0.expiry) }.min()
        switch (q, b) {
        case (let q?, let b?): return min(q, b)
        case (let q?, nil): return q
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    /// One request read on `namespace`'s request channel. `isOwn` is true
    /// when its requestId is one busd published for its node (the requester
    /// hears its own requests). `nextAckId` hands out busd ack ids.
    public mutating func receive(
        _ request: RequestMessage,
        namespace: String,
        node: NodePresence,
        registry: some ClusterRegistryView,
        isOwn: Bool,
        now: UInt64,
        nextAckId: () -> UInt64
    ) -> [ClusterAction] {
        let legacy = request.generation == .legacy
        switch request.kind {
        case .sockets(let rooms), .clients(let rooms):
            guard let requestId = request.requestId, !isOwn else { return [] }
            guard !legacy else {
                let ids = node == .absent ? [] : registry.sockets(namespace: namespace, rooms: rooms, except: [])
                let payload = ResponseEncoding.legacy(requestId: requestId, [("clients", .array(ids.map(JSValue.string)))])
                return [publish(namespace, payload)]
            }
            let payload = ResponseEncoding.sockets(requestId: requestId) { body in
                if node != .absent { registry.forEachSocketId(namespace: namespace, rooms: rooms, except: [], body) }
            }
            return [publish(namespace, payload)]
        case .allRooms:
            guard let requestId = request.requestId, !isOwn else { return [] }
            guard !legacy else {
                let rooms = node == .absent ? [] : registry.rooms(namespace: namespace)
                let payload = ResponseEncoding.legacy(requestId: requestId, [("rooms", .array(rooms.map(\.jsValue)))])
                return [publish(namespace, payload)]
            }
            let payload = ResponseEncoding.allRooms(requestId: requestId) { list in
                if node != .absent { registry.writeRooms(namespace: namespace, to: &list) }
            }
            return [publish(namespace, payload)]
        case .clientRooms(let socket):
            // Only the server that has the socket answers.
            guard let requestId = request.requestId, node != .absent,
                let rooms = registry.rooms(ofSocket: socket, namespace: namespace)
            else { return [] }
            return [
                publish(
                    namespace,
                    ResponseEncoding.legacy(requestId: requestId, [("rooms", .array(rooms.map(\.jsValue)))])
                )
            ]
        case .remoteJoin(let target, let rooms):
            return applied(.join, target, rooms: rooms, close: false, request, namespace, node, registry)
        case .remoteLeave(let target, let rooms):
            return applied(.leave, target, rooms: rooms, close: false, request, namespace, node, registry)
        case .remoteDisconnect(let target, let close):
            return applied(.disconnect, target, rooms: [], close: close, request, namespace, node, registry)
        case .remoteFetch(let rooms, let except):
            guard let requestId = request.requestId, !isOwn else { return [] }
            switch node {
            case .absent:
                return [publish(namespace, ResponseEncoding.fetchedSockets(requestId: requestId, sockets: []))]
            case .v1:
                let payload = ResponseEncoding.fetchedSockets(requestId: requestId) { list in
                    registry.writeSockets(namespace: namespace, rooms: rooms, except: except, to: &list)
                }
                return [publish(namespace, payload)]
            case .v2:
                let body = JSONText.bytes(
                    .object(JSObject([("rooms", JSONText.rooms(rooms)), ("except", JSONText.rooms(except))]))
                )
                return [ask(.fetch, namespace, requestId, body, now)]
            }
        case .serverSideEmit(let data):
            guard request.uid != settings.uid else { return [] }
            guard node != .absent else { return [] }
            guard let requestId = request.requestId, node == .v2 else {
                return [.serverSideEmit(namespace: namespace, data: data)]
            }
            return [ask(.serverSideEmit, namespace, requestId, JSONText.bytes(.array(data)), now)]
        case .customRequest(let data):
            guard let requestId = request.requestId else { return [] }
            guard node == .v2 else { return [publish(namespace, Self.customReply(requestId, .null))] }
            return [ask(.custom, namespace, requestId, JSONText.bytes(data), now)]
        case .broadcast(let message):
            guard let requestId = request.requestId, !isOwn else { return [] }
            return broadcastWithAck(message, requestId: requestId, namespace, node, registry, now, nextAckId)
        case .unknown:
            return []
        }
    }

    func publish(_ namespace: String, _ payload: [UInt8]) -> ClusterAction {
        .publish(channel: settings.channels.response(namespace), payload: payload)
    }

    /// The socket.io-redis 5.x customRequest reply.
    static func customReply(_ requestId: String, _ data: JSValue) -> [UInt8] {
        ResponseEncoding.legacy(requestId: requestId, [("data", data)])
    }

    private mutating func ask(
        _ kind: QuestionKind,
        _ namespace: String,
        _ requestId: String,
        _ body: [UInt8],
        _ now: UInt64
    ) -> ClusterAction {
        var id = lastQuestion &+ 1
        while id == 0 || questions[id] != nil { id &+= 1 }
        lastQuestion = id
        let deadline = Deadline.after(now, settings.nodeAnswerTimeoutMilliseconds)
        questions[id] = PendingQuestion(kind: kind, namespace: namespace, requestId: requestId, deadline: deadline)
        earliest.note(deadline)
        return .ask(request: id, kind: kind, namespace: namespace, body: body)
    }
}
