public import SocketIOCodec

/// The request and response channel names of one namespace.
public struct ClusterChannels: Sendable, Hashable {
    public var key: String

    public init(key: String = AdapterChannel.defaultKey) {
        self.key = key
    }

    public func request(_ namespace: String) -> String {
        AdapterChannel.request(key: key, namespace: namespace).name
    }

    /// The shared response channel, where busd answers (every requester subscribes it).
    public func response(_ namespace: String) -> String {
        AdapterChannel.response(key: key, namespace: namespace, uid: nil).name
    }

    /// The three channels a stock node SUBSCRIBEs (so `PUBSUB NUMSUB` counts it).
    public func subscriptions(_ namespace: String, uid: String) -> [String] {
        [
            request(namespace), response(namespace),
            AdapterChannel.response(key: key, namespace: namespace, uid: uid).name,
        ]
    }
}
