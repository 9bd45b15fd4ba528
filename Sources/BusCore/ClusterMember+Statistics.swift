import Synchronization

extension ClusterMember {
    public struct Statistics: Sendable, Hashable {
        public var received = 0
        /// Messages this busd published itself, seen coming back.
        public var ownDropped = 0
        /// Room-channel messages for rooms this node does not have, dropped before decoding.
        public var filteredBeforeDecode = 0
        /// Namespace-channel messages for a namespace where this node has no
        /// socket, dropped before decoding.
        public var namespaceFilteredBeforeDecode = 0
        /// Broadcasts the registry would have dropped before decoding, passed
        /// on because the node link had frames not yet applied (the fence).
        public var keptByLinkFence = 0
        /// Payloads that did not decode: counted and skipped.
        public var malformed = 0
        public var deliveries = 0
        public var requestsApplied = 0
        /// Responses to requests busd did not publish, skipped unparsed.
        public var responsesSkipped = 0
    }
}

/// The counters of ``ClusterMember/Statistics``, as atomics: the subscriber
/// bumps them per message, and a lock there would cost more than the work.
final class StatisticsCounters: Sendable {
    let received = Atomic<Int>(0)
    let ownDropped = Atomic<Int>(0)
    let filteredBeforeDecode = Atomic<Int>(0)
    let namespaceFilteredBeforeDecode = Atomic<Int>(0)

    /// A broadcast dropped by its channel name: its namespace's own channel
    /// (`room` nil) or a room's.
    func countChannelDrop(room: String?) {
        if room == nil {
            namespaceFilteredBeforeDecode.add(1, ordering: .relaxed)
        } else {
            filteredBeforeDecode.add(1, ordering: .relaxed)
        }
    }
    let keptByLinkFence = Atomic<Int>(0)
    let malformed = Atomic<Int>(0)
    let deliveries = Atomic<Int>(0)
    let requestsApplied = Atomic<Int>(0)
    let responsesSkipped = Atomic<Int>(0)

    var snapshot: ClusterMember.Statistics {
        var s = ClusterMember.Statistics()
        s.received = received.load(ordering: .relaxed)
        s.ownDropped = ownDropped.load(ordering: .relaxed)
        s.filteredBeforeDecode = filteredBeforeDecode.load(ordering: .relaxed)
        s.namespaceFilteredBeforeDecode = namespaceFilteredBeforeDecode.load(ordering: .relaxed)
        s.keptByLinkFence = keptByLinkFence.load(ordering: .relaxed)
        s.malformed = malformed.load(ordering: .relaxed)
        s.deliveries = deliveries.load(ordering: .relaxed)
        s.requestsApplied = requestsApplied.load(ordering: .relaxed)
        s.responsesSkipped = responsesSkipped.load(ordering: .relaxed)
        return s
    }
}
