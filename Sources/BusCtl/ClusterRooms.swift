import BusCore
import Hiredis
import SocketIOCodec

/// A cluster-wide `io.of(nsp).adapter.allRooms()` as a stock node does it:
/// ALL_ROOMS on the namespace's request channel, servers counted with
/// `PUBSUB NUMSUB`, each answer's rooms merged, until every counted server
/// answered or the time-out.
struct ClusterRooms {
    struct Result {
        var rooms: [Room] = []
        var expected = 0
        var answered = 0
        var isComplete: Bool { answered >= expected }
    }

    var key: String
    var namespace: String

    func run(command: RedisClient, subscriber: RedisConnection, timeout: Duration) throws(RedisError) -> Result {
        let round = try NamespaceRequestRound(key: key, namespace: namespace, command: command, subscriber: subscriber)
        let (uid, feed) = (round.uid, round.feed)
        var result = Result()
        result.expected = round.expected
        guard result.expected > 0 else { return result }
        let requestId = AdapterRequests.randomId()
        let payload = RequestEncoding.allRooms(uid: uid, requestId: requestId)
        try round.publish(payload, with: command)
        var seen: Set<Room> = []
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !result.isComplete {
            let left = deadline - clock.now
            guard left > .zero, let response = try feed.next(timeout: left) else { break }
            // Another request's answer, or one of ours of the wrong shape: not counted.
            guard response.message.requestId == requestId, case .rooms(let rooms) = response.message.kind else {
                continue
            }
            result.answered += 1
            result.rooms += rooms.filter { seen.insert($0).inserted }
        }
        return result
    }
}
