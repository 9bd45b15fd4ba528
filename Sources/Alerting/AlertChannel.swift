/// A way alerts leave busd: email, a webhook. The dispatcher runs each on a
/// thread of its own and does the retries; a channel makes one attempt.
public protocol AlertChannel: Sendable {
    /// Short and stable, for counters and logs: `smtp`, `webhook-1`.
    var name: String { get }
    /// Where it delivers, without any secret: `smtp://mail:587 to ops@x, b@y`.
    var target: String { get }
    var delivery: DeliveryPolicy { get }
    /// One attempt, blocking the calling thread for at most `delivery.timeout`
    /// (plus libcurl's own bookkeeping).
    func deliver(_ event: AlertEvent) throws(ChannelError)
}

/// Why one attempt failed.
public struct ChannelError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case transfer(String)
        case status(Int, String)
        case abandoned(String)
    }

    private let kind: Kind

    /// libcurl could not do the transfer (connection, TLS, time-out, a
    /// refused SMTP command); `detail` is libcurl's text.
    public static func transfer(_ detail: String) -> ChannelError { ChannelError(kind: .transfer(detail)) }

    /// The server answered with a status that is not a success.
    public static func status(_ code: Int, body: String) -> ChannelError { ChannelError(kind: .status(code, body)) }

    /// The dispatcher stopped or gave up waiting before delivery.
    static func abandoned(_ why: String) -> ChannelError { ChannelError(kind: .abandoned(why)) }

    /// The HTTP status, when the failure was one.
    public var status: Int? {
        if case .status(let code, _) = kind { return code }
        return nil
    }

    public var description: String {
        switch kind {
        case .transfer(let detail): return detail
        case .status(let code, let body): return body.isEmpty ? "HTTP \(code)" : "HTTP \(code): \(body)"
        case .abandoned(let why): return why
        }
    }
}

/// The outcome of one event on one channel, retries included.
public struct ChannelResult: Sendable {
    public let channel: String
    public let target: String
    /// nil when delivered.
    public let error: String?
    /// Attempts made (0 when the event never got its turn).
    public let attempts: Int
    public let elapsed: Duration

    public var succeeded: Bool { error == nil }
}

/// What a channel has done since start, for metrics.
public struct ChannelCounters: Sendable, Equatable {
    public let channel: String
    /// Events delivered.
    public var sent = 0
    /// Events given up on after the last retry.
    public var failed = 0
    /// Attempts, successful or not.
    public var attempts = 0
    /// Events never tried: the queue was full (the oldest goes) or the
    /// dispatcher stopped first.
    public var dropped = 0

    public init(channel: String) { self.channel = channel }
}
