/// What to do with a command for Redis when the outbound buffer is full.
public enum OutboundOverflowPolicy: String, Sendable, CaseIterable {
    /// Keep the newest: the oldest waiting command is dropped (the default:
    /// after an outage, recent broadcasts matter more than old ones).
    case dropOldest = "drop-oldest"
    /// Keep what is queued: the new command is dropped.
    case dropNewest = "drop-newest"
}

/// The commands waiting for Redis, oldest first, bounded: a FIFO whose
/// removals at the front cost O(1) (the storage is compacted now and then),
/// because a full buffer drops at its front on every new command.
struct OutboundQueue {
    typealias Command = [[UInt8]]

    let limit: Int
    let policy: OutboundOverflowPolicy
    private var storage: [Command] = []
    private var head = 0
    /// Commands dropped because the queue was full.
    private(set) var dropped = 0

    init(limit: Int, policy: OutboundOverflowPolicy) {
        self.limit = max(1, limit)
        self.policy = policy
    }

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(contentsOf commands: [Command]) {
        for command in commands {
            if count >= limit {
                dropped += 1
                if policy == .dropNewest { continue }
                removeFirst(1)
            }
            storage.append(command)
        }
    }

    /// Takes up to `n` commands from the front, to send.
    mutating func popFirst(_ n: Int) -> [Command] {
        let batch = Array(storage[head..<(head + min(n, count))])
        removeFirst(batch.count)
        return batch
    }

    /// Puts back a batch whose sending failed, in front of what came since;
    /// when that overfills the queue the policy decides who is dropped.
    mutating func pushFront(_ batch: [Command]) {
        if head >= batch.count {
            head -= batch.count
            storage.replaceSubrange(head..<(head + batch.count), with: batch)
        } else {
            storage.replaceSubrange(0..<head, with: batch)
            head = 0
        }
        let excess = count - limit
        guard excess > 0 else { return }
        dropped += excess
        switch policy {
        case .dropOldest: removeFirst(excess)
        case .dropNewest: storage.removeLast(excess)
        }
    }

    private mutating func removeFirst(_ n: Int) {
        head += min(n, count)
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}

/// The outbound buffer's figures, for logs, metrics and `busctl status`.
public struct OutboundFigures: Sendable, Hashable {
    /// Commands Redis took.
    public var published: Int
    /// Commands dropped from a full buffer.
    public var dropped: Int
    /// Commands that waited out an outage and were published after it.
    public var replayed: Int
    /// Commands waiting now.
    public var waiting: Int
    /// The bound.
    public var limit: Int
}
