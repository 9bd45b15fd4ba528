/// Which broadcasts busd injects an ack id into (and so confirms).
public enum AckPolicy: String, Sendable, CaseIterable {
    /// Every EVENT and BINARY_EVENT that has no ack id of its own, unless
    /// the publisher opted out (`socketbus: {ack: false}` in opts).
    case all
    /// Only those whose publisher asked (`socketbus` key in opts).
    case requested
    /// None: packets are delivered exactly as encoded.
    case none
}

/// busd's ack ids: 2^52 ... 2^53-1, far above socket.io's per-namespace
/// counters (which start at 0) and still exact as JavaScript numbers.
public enum AckIdRange {
    public static let base: UInt64 = 1 << 52
    public static let last: UInt64 = (1 << 53) - 1
}
