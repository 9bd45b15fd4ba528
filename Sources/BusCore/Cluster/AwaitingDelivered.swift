import Synchronization

/// The delivery records of a v2 node's broadcasts with an injected ack id,
/// until DELIVERED names the sockets the node wrote to. Bounded: a node that
/// never answers cannot grow it past `limit` (the oldest go first).
final class AwaitingDelivered: Sendable {
    struct Record: Sendable {
        var messageId: String
        var namespace: String
        var timeoutMilliseconds: UInt64
    }

    private let state = Mutex<(records: [UInt64: Record], order: [UInt64])>(([:], []))
    private let limit: Int

    init(limit: Int = 100_000) {
        self.limit = limit
    }

    func remember(ackId: UInt64, messageId: String, namespace: String, timeoutMilliseconds: UInt64) {
        state.withLock { state in
            state.records[ackId] = Record(
                messageId: messageId,
                namespace: namespace,
                timeoutMilliseconds: timeoutMilliseconds
            )
            state.order.append(ackId)
            if state.order.count > limit * 2 { state.order.removeAll { state.records[$0] == nil } }
            while state.records.count > limit, !state.order.isEmpty {
                state.records[state.order.removeFirst()] = nil
            }
        }
    }

    func take(_ ackId: UInt64) -> Record? {
        state.withLock { $0.records.removeValue(forKey: ackId) }
    }

    var count: Int { state.withLock { $0.records.count } }
}
