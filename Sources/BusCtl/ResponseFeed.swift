import Hiredis
import SocketIOCodec

/// The adapter's answers to busctl's requests: a pub/sub connection
/// subscribed (plain SUBSCRIBE, as a requesting stock node is) to response
/// channels, handing out the responses that carry one of busctl's request ids.
///
/// Responses go on the shared `<key>-response#<nsp>#`, or on
/// `<key>-response#<nsp>#<uid>#` from a node started with
/// `publishOnSpecificResponseChannel`: busctl subscribes to both.
final class ResponseFeed {
    struct Response {
        var channel: String
        var message: ResponseMessage
    }

    private let connection: RedisConnection

    /// Subscribes and waits for Redis to confirm every channel, so that
    /// nothing published afterwards is missed. An error reply is thrown.
    init(connection: RedisConnection, channels: [String]) throws(RedisError) {
        self.connection = connection
        guard !channels.isEmpty else { return }
        try connection.append(["SUBSCRIBE"] + channels)
        for _ in channels { _ = try connection.readReply() }
    }

    /// The channels to subscribe for requests of `uid` in `namespaces`.
    static func channels(key: String, namespaces: [String], uid: String) -> [String] {
        namespaces.flatMap { nsp in
            [
                AdapterChannel.response(key: key, namespace: nsp, uid: nil).name,
                AdapterChannel.response(key: key, namespace: nsp, uid: uid).name,
            ]
        }
    }

    /// The next response, or nil when `timeout` passed first.
    func next(timeout: Duration) throws(RedisError) -> Response? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            while let reply = try connection.bufferedReply() {
                guard case .array(let parts) = reply, parts.count == 3, parts[0].string == "message",
                    let channel = parts[1].string, case .bulk(let payload) = parts[2]
                else { continue }
                let encoding = PayloadEncoding.sniff(payload)
                // Anything unreadable on the channel is someone else's business: skipped.
                guard let value = try? AdapterMessage.decodeValue(payload, encoding: encoding),
                    let message = try? ResponseMessage(value, encoding: encoding)
                else { continue }
                return Response(channel: channel, message: message)
            }
            let left = deadline - clock.now
            guard left > .zero, try connection.waitReadable(timeout: left) else { return nil }
            try connection.readAvailable()
        }
    }
}
