import ClusterRequests
import SocketIOCodec
import Synchronization

/// A broadcast with no local target, dropped by the subscriber's reader
/// before it enters the backlog: the router never wakes for it, where a
/// batch of misses cost it a wake-up and a pass (issue 17: a miss took
/// ~0.26 µs of the router's CPU beside the reader's ~0.2).
///
/// The router's rule (``ClusterMember/mayHaveTargets(namespace:room:)``),
/// with the fence asked once per read: every message of a read was taken
/// off Redis's socket before the first is asked about, as every message of
/// a router take was. One thing is the router's alone: a request it has not
/// handled yet may join local sockets to a room (a v1 node's registry, or
/// an APPLY held by ``PendingRoomJoins``) before the broadcasts that follow
/// it in Redis's order. So from a message that is not a broadcast on,
/// nothing is dropped here until the router has handled its batch; the
/// router decides those as before.
///
/// A drop is counted as the router counts one (received, then filtered by
/// namespace or room). Reader thread only; off with the sharded adapter.
final class ReaderChannelFilter: SubscriberReadFilter, @unchecked Sendable {
    // @unchecked: the state below belongs to the subscriber's reader thread.
    private let rule: ChannelRule
    private let counters: StatisticsCounters
    private let adapterKey: String
    /// The last channel seen, and what it parsed to: a broadcast channel's
    /// namespace and room (nil: the namespace's own channel).
    @exclusivity(unchecked) private var channelBytes: [UInt8] = []
    @exclusivity(unchecked) private var isBroadcast = false
    @exclusivity(unchecked) private var namespace = ""
    @exclusivity(unchecked) private var room: String?
    /// Not a broadcast, and a request or a channel that did not parse.
    @exclusivity(unchecked) private var holdsDrops = false
    @exclusivity(unchecked) private var check: ChannelCheck?
    /// The read the fence was last asked in, and its answer.
    @exclusivity(unchecked) private var fenceRead: UInt64 = .max
    @exclusivity(unchecked) private var fenceSettled = false
    /// The batch holding the last message that was not a broadcast.
    @exclusivity(unchecked) private var heldUntilRouted: UInt64 = 0

    init(rule: ChannelRule, counters: StatisticsCounters, adapterKey: String) {
        self.rule = rule
        self.counters = counters
        self.adapterKey = adapterKey
    }

    func dropsOnRead(_ bytes: UnsafeRawBufferPointer, at position: AdapterSubscriber.ReadPosition) -> Bool {
        if !channelBytes.equals(bytes) { parse(bytes) }
        guard isBroadcast else {
            // Only a request can join local sockets (a response cannot).
            if holdsDrops { heldUntilRouted = position.batch }
            return false
        }
        guard position.routed >= heldUntilRouted else { return false }
        // A channel with targets, its answer cached: no string is touched.
        let byRegistry = rule.dropsByRegistry
        if let last = check, last.present, last.byRegistry == byRegistry,
            last.generation == rule.generation(byRegistry: byRegistry)
        {
            return false
        }
        return dropsMiss(read: position.read)
    }

    @inline(never)
    private func parse(_ bytes: UnsafeRawBufferPointer) {
        let channel = try? AdapterChannel(parsing: String(decoding: bytes, as: UTF8.self), key: adapterKey)
        channelBytes = Array(bytes)
        check = nil
        switch channel {
        case .broadcast(_, let namespace, let room)?:
            (isBroadcast, self.namespace, self.room, holdsDrops) = (true, namespace, room, false)
        case .response?:
            (isBroadcast, namespace, room, holdsDrops) = (false, "", nil, false)
        case .request?, nil:
            (isBroadcast, namespace, room, holdsDrops) = (false, "", nil, true)
        }
    }

    /// The check past its cache's quick answer, the join hold and the fence.
    @inline(never)
    private func dropsMiss(read: UInt64) -> Bool {
        let namespace = namespace
        let room = room
        guard !rule.hasTargets(namespace: namespace, room: room, cache: &check),
            !rule.pendingRoomJoins.holds(namespace: namespace, room: room),
            fenceAllowsDrop(namespace: namespace, room: room, read: read)
        else { return false }
        counters.received.add(1, ordering: .relaxed)
        counters.countChannelDrop(room: room)
        return true
    }

    /// The fence, once per read; a message it keeps goes to the router,
    /// which asks again and counts it.
    private func fenceAllowsDrop(namespace: String, room: String?, read: UInt64) -> Bool {
        // Asked earlier in this read, before this check's generation was loaded.
        if read == fenceRead { return fenceSettled }
        fenceRead = read
        fenceSettled = rule.linkReadFence.isSettled()
        guard fenceSettled else { return false }
        // Again, now behind the fence: the answer may predate it.
        return !rule.hasTargets(namespace: namespace, room: room, cache: &check)
    }
}
