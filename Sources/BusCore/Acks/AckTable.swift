public import LocalProtocol
public import SocketIOCodec

/// busd's table of injected ack ids waiting for their clients: a value type
/// that returns the outcomes it decides, so the service around it does the
/// I/O and the rules are tested without any.
///
/// One ack id per message; each target socket settles on its own, once: the
/// first of acked (`delivered`), its deadline (`timeout`) or its socket
/// going away (`disconnected`). Later reports for a settled socket, and
/// reports for ids the table does not know, are ignored.
public struct AckTable: Sendable {
    /// Times as the table needs them: a monotonic clock for deadlines, the
    /// wall clock for the records.
    public struct Time: Sendable {
        public var monotonicMilliseconds: UInt64
        public var unixMilliseconds: Int64

        public init(monotonicMilliseconds: UInt64, unixMilliseconds: Int64) {
            self.monotonicMilliseconds = monotonicMilliseconds
            self.unixMilliseconds = unixMilliseconds
        }
    }

    /// How one socket's ack settled.
    public struct Outcome: Sendable, Hashable {
        public var ackId: UInt64
        public var messageId: String
        public var namespace: String
        public var socketId: String
        public var status: AckStatus
        /// The client's ack arguments (delivered only).
        public var arguments: [JSValue]?
        public var dispatchedAt: Int64
        public var settledAt: Int64
    }

    struct Entry: Sendable {
        var messageId: String
        var namespace: String
        var dispatchedAt: Int64
        var waiting: Set<String>
    }

    private var entries: [UInt64: Entry] = [:]
    private var idsBySocket: [String: Set<UInt64>] = [:]
    private var deadlines = DeadlineHeap()
    private var lastId: UInt64

    public init(firstId: UInt64 = AckIdRange.base + 1) {
        lastId = firstId - 1
    }

    /// Messages with at least one socket still waiting.
    public var pendingMessages: Int { entries.count }
    /// Sockets still waiting, over all messages.
    public var pendingSockets: Int { entries.values.reduce(0) { $0 + $1.waiting.count } }

    /// The next id of the reserved range (wrapping back to its start after
    /// 2^52 ids, which no busd lives to see).
    public mutating func nextId() -> UInt64 {
        lastId = lastId >= AckIdRange.last ? AckIdRange.base + 1 : lastId + 1
        return lastId
    }

    /// Starts waiting for `sockets` to ack `ackId` within `timeoutMilliseconds`.
    public mutating func register(
        ackId: UInt64,
        messageId: String,
        namespace: String,
        sockets: [String],
        timeoutMilliseconds: UInt64,
        at time: Time
    ) {
        guard !sockets.isEmpty else { return }
        entries[ackId] = Entry(messageId: messageId, namespace: namespace, dispatchedAt: time.unixMilliseconds, waiting: Set(sockets))
        for socket in sockets { idsBySocket[socket, default: []].insert(ackId) }
        deadlines.insert(.init(deadline: time.monotonicMilliseconds &+ timeoutMilliseconds, ackId: ackId))
    }

    /// A report from the node; nil when it settles nothing.
    public mutating func report(
        ackId: UInt64,
        socketId: String,
        status: AckStatus,
        arguments: [JSValue]?,
        at time: Time
    ) -> Outcome? {
        settle(ackId, socketId, status, status == .delivered ? arguments ?? [] : nil, time)
    }

    /// The socket went away: everything it still owed is `disconnected`.
    public mutating func socketGone(_ socketId: String, at time: Time) -> [Outcome] {
        guard let ids = idsBySocket[socketId] else { return [] }
        return ids.sorted().compactMap { settle($0, socketId, .disconnected, nil, time) }
    }

    /// Everything whose deadline passed is `timeout`.
    public mutating func expire(at time: Time) -> [Outcome] {
        var outcomes: [Outcome] = []
        while let first = deadlines.first, first.deadline <= time.monotonicMilliseconds {
            _ = deadlines.removeFirst()
            guard let entry = entries[first.ackId] else { continue }
            for socket in entry.waiting.sorted() {
                if let outcome = settle(first.ackId, socket, .timeout, nil, time) { outcomes.append(outcome) }
            }
        }
        return outcomes
    }

    /// When the next deadline falls (monotonic ms), if any.
    public var nextDeadline: UInt64? { deadlines.first?.deadline }

    private mutating func settle(_ ackId: UInt64, _ socketId: String, _ status: AckStatus, _ arguments: [JSValue]?, _ time: Time) -> Outcome? {
        guard var entry = entries[ackId], entry.waiting.remove(socketId) != nil else { return nil }
        if entry.waiting.isEmpty {
            entries[ackId] = nil
        } else {
            entries[ackId] = entry
        }
        if var ids = idsBySocket[socketId] {
            ids.remove(ackId)
            idsBySocket[socketId] = ids.isEmpty ? nil : ids
        }
        return Outcome(
            ackId: ackId, messageId: entry.messageId, namespace: entry.namespace, socketId: socketId, status: status,
            arguments: arguments, dispatchedAt: entry.dispatchedAt, settledAt: time.unixMilliseconds)
    }
}
