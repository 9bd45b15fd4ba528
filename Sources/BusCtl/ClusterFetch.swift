import BusCore
import Hiredis
import SocketIOCodec

/// A cluster-wide `fetchSockets()` as a stock node does it: REMOTE_FETCH on
/// each namespace's request channel, servers counted with `PUBSUB NUMSUB`,
/// answers collected until every counted server answered or the time-out.
///
/// Every server that serves the namespace answers (stock nodes, and busd
/// nodes that answer requests), so the sockets found may be on either kind.
struct ClusterFetch {
    /// One socket as a server described it (`{id, handshake, rooms, data}`).
    struct FetchedSocket {
        var namespace: String
        var id: String
        var handshake: JSObject
        var rooms: [JSValue]

        init?(_ value: JSValue, namespace: String) {
            guard let object = value.objectValue, let id = object["id"]?.stringValue else { return nil }
            self.namespace = namespace
            self.id = id
            self.handshake = object["handshake"]?.objectValue ?? JSObject()
            self.rooms = object["rooms"]?.arrayValue ?? []
        }
    }

    struct Result {
        var sockets: [FetchedSocket] = []
        /// Per namespace: servers counted by NUMSUB when the request went out.
        var expected: [String: Int] = [:]
        /// Per namespace: servers that answered in time.
        var answered: [String: Int] = [:]

        var expectedTotal: Int { expected.values.reduce(0, +) }
        var answeredTotal: Int { answered.values.reduce(0, +) }
        var isComplete: Bool { expected.allSatisfy { answered[$0.key, default: 0] >= $0.value } }
    }

    var key: String
    var namespaces: [String]
    var rooms: [Room]
    var except: [Room]

    /// Runs the fetch. `command` runs PUBSUB and PUBLISH; `subscriber` is
    /// used for the responses only. `done` may end the wait early (e.g. once
    /// the socket looked for is found). An error reply is thrown.
    func run(
        command: RedisClient,
        subscriber: RedisConnection,
        timeout: Duration,
        done: (Result) -> Bool = { _ in false }
    ) throws(RedisError) -> Result {
        let uid = AdapterRequests.randomId()
        // Subscribed before anything is published, so no answer is missed.
        let feed = try ResponseFeed(
            connection: subscriber,
            channels: ResponseFeed.channels(key: key, namespaces: namespaces, uid: uid)
        )
        let requestChannels = namespaces.map { AdapterChannel.request(key: key, namespace: $0).name }
        let counts = try command.subscriberCounts(requestChannels)
        var result = Result()
        var namespaceOfRequest: [String: String] = [:]
        for (nsp, channel) in zip(namespaces, requestChannels) {
            let servers = counts[channel] ?? 0
            result.expected[nsp] = servers
            guard servers > 0 else { continue }
            let requestId = AdapterRequests.randomId()
            namespaceOfRequest[requestId] = nsp
            let payload = AdapterRequests.fetch(uid: uid, requestId: requestId, rooms: rooms, except: except)
            _ = try command.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !result.isComplete && !done(result) {
            let left = deadline - clock.now
            guard left > .zero, let response = try feed.next(timeout: left) else { break }
            guard let requestId = response.message.requestId, let nsp = namespaceOfRequest[requestId],
                case .fetchedSockets(let sockets) = response.message.kind
            else { continue }
            result.answered[nsp, default: 0] += 1
            result.sockets += sockets.compactMap { FetchedSocket($0, namespace: nsp) }
        }
        return result
    }
}
