import SocketIOCodec

/// The part of `emit --wait-ack` that targets sockets on Socket.IO servers
/// without busd: the adapter's own acked broadcast (BROADCAST, type 7). Each
/// server that gets the request answers one BROADCAST_CLIENT_COUNT (type 8)
/// and then one BROADCAST_ACK (type 9) per client that acked, carrying the
/// client's first ack argument and no socket id. A value type: the caller
/// feeds it responses and asks whether the wait is over, as the requesting
/// stock node decides (every counted server reported, every client acked).
struct StockAckWait {
    enum Event {
        case clientCount(Int)
        case ack(JSValue)
    }

    let requestId: String
    /// The sockets the request targets (found by the cluster fetch).
    let socketIds: [String]
    /// Servers counted with `PUBSUB NUMSUB` when the request went out.
    let servers: Int
    private(set) var answeredServers = 0
    private(set) var clients = 0
    private(set) var acks: [JSValue] = []

    init(requestId: String, socketIds: [String], servers: Int) {
        self.requestId = requestId
        self.socketIds = socketIds
        self.servers = servers
    }

    /// Takes a response; returns what it told when it belongs to this request.
    mutating func take(_ response: ResponseMessage) -> Event? {
        guard response.requestId == requestId else { return nil }
        switch response.kind {
        case .broadcastClientCount(let count):
            answeredServers += 1
            // Counts come from Redis: many huge ones saturate instead of trapping.
            let (sum, overflow) = clients.addingReportingOverflow(count)
            clients = overflow ? Int.max : sum
            return .clientCount(count)
        case .broadcastAck(let argument):
            acks.append(argument)
            return .ack(argument)
        default:
            return nil
        }
    }

    /// Every counted server reported its client count and every client acked.
    var isComplete: Bool { answeredServers >= servers && acks.count >= clients }

    /// The summary line.
    var summary: String {
        "stock nodes: \(acks.count)/\(clients) acked, \(answeredServers) of \(servers) servers answered the acked broadcast, request id \(requestId)"
    }

    var jsValue: JSValue {
        .object(
            JSObject([
                ("requestId", .string(requestId)), ("sockets", .array(socketIds.map(JSValue.string))),
                ("servers", .number(Double(servers))), ("serversAnswered", .number(Double(answeredServers))),
                ("clients", .number(Double(clients))), ("acks", .array(acks)),
            ])
        )
    }
}
