import BusCore
import Hiredis
import SocketIOCodec

/// What a busctl request to every server of one namespace starts with: a
/// uid of its own, its response channels subscribed (before anything is
/// published), the namespace's request channel, and how many servers
/// `PUBSUB NUMSUB` counts there.
struct NamespaceRequestRound {
    let uid: String
    let feed: ResponseFeed
    let channel: String
    let expected: Int

    init(key: String, namespace: String, command: RedisClient, subscriber: RedisConnection) throws(RedisError) {
        uid = AdapterRequests.randomId()
        feed = try ResponseFeed(
            connection: subscriber,
            channels: ResponseFeed.channels(key: key, namespaces: [namespace], uid: uid)
        )
        channel = AdapterChannel.request(key: key, namespace: namespace).name
        expected = try command.subscriberCounts([channel])[channel] ?? 0
    }

    /// PUBLISHes one request on the namespace's request channel.
    func publish(_ payload: [UInt8], with command: RedisClient) throws(RedisError) {
        _ = try command.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
    }
}
