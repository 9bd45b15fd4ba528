import BusCore
import Hiredis
import SocketIOCodec

/// The ids of the sockets a broadcast would reach, cluster-wide, without
/// their handshakes: SOCKETS requests (type 0, which 8.x nodes still answer
/// with bare ids), one for `rooms` and, when there are any, one for `except`,
/// whose sockets are then left out (the in-memory adapter's rule). For a
/// whole namespace of a large cluster that is ids only, not every socket's
/// handshake as a fetch would bring.
struct ClusterSocketIds {
    struct Result {
        var ids: [String] = []
        /// Servers counted by NUMSUB when the requests went out.
        var expected = 0
        /// Servers that answered every request in time.
        var answered = 0
        var isComplete: Bool { answered >= expected }
    }

    var key: String
    var namespace: String
    var rooms: [Room]
    var except: [Room]

    /// Runs the requests; `command` runs PUBSUB and PUBLISH, `subscriber`
    /// reads the answers. An error reply is thrown.
    func run(command: RedisClient, subscriber: RedisConnection, timeout: Duration) throws(RedisError) -> Result {
        let round = try NamespaceRequestRound(key: key, namespace: namespace, command: command, subscriber: subscriber)
        let (uid, feed) = (round.uid, round.feed)
        var result = Result()
        result.expected = round.expected
        guard result.expected > 0 else { return result }
        // The rooms' request, then the except rooms' one; each answered once per server.
        var queries = [(requestId: AdapterRequests.randomId(), rooms: rooms, answered: 0, ids: [String]())]
        if !except.isEmpty { queries.append((AdapterRequests.randomId(), except, 0, [])) }
        for query in queries {
            let payload = AdapterRequests.sockets(uid: uid, requestId: query.requestId, rooms: query.rooms)
            try round.publish(payload, with: command)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while queries.contains(where: { $0.answered < result.expected }) {
            let left = deadline - clock.now
            guard left > .zero, let response = try feed.next(timeout: left) else { break }
            guard let index = queries.firstIndex(where: { $0.requestId == response.message.requestId }) else {
                continue
            }
            switch response.message.kind {
            case .sockets(let ids): queries[index].ids += ids
            case .fetchedSockets(let sockets) where sockets.isEmpty: break
            default: continue
            }
            queries[index].answered += 1
        }
        result.answered = queries.map(\.answered).min() ?? 0
        let excepted = Set(queries.dropFirst().flatMap(\.ids))
        var seen: Set<String> = []
        result.ids = queries[0].ids.filter { !excepted.contains($0) && seen.insert($0).inserted }
        return result
    }
}
