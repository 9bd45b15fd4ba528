/// Drops messages on the subscriber's reader thread, before the backlog:
/// true means the router never sees it (the filter counts it).
protocol SubscriberReadFilter: AnyObject, Sendable {
    func dropsOnRead(_ channel: UnsafeRawBufferPointer, at position: AdapterSubscriber.ReadPosition) -> Bool
}

extension AdapterSubscriber {
    /// Where the reader is, for ``SubscriberReadFilter``: the messages of one
    /// `read` were all taken off the socket before the first is asked
    /// about, go into batch number `batch` (1, 2, … in push order), and the
    /// router has handled every batch up to `routed`.
    struct ReadPosition {
        var read: UInt64
        var batch: UInt64
        var routed: UInt64
    }
}
