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
        let uid = AdapterRequests.randomId()
        let feed = try ResponseFeed(
            connection: subscriber,
            channels: ResponseFeed.channels(key: key, namespaces: [namespace], uid: uid)
        )
        let channel = AdapterChannel.request(key: key, namespace: namespace).name
        var result = Result()
        result.expected = try command.subscriberCounts([channel])[channel] ?? 0
        guard result.expected > 0 else { return result }
        let requestId = AdapterRequests.randomId()
        let payload = RequestEncoding.allRooms(uid: uid, requestId: requestId)
        _ = try command.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
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
