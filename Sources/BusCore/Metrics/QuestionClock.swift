import Synchronization

/// When busd asked its node each open QUESTION, so the answer's arrival can
/// be timed (`socketbus_request_answer_seconds`). Answers the node never
/// gives leave their entry; those older than a minute are pruned once the
/// table grows past `limit`, so a silent node cannot grow it without bound.
public final class QuestionClock: Sendable {
    public static let shared = QuestionClock()

    private let asked = Mutex<[UInt32: ContinuousClock.Instant]>([:])
    let limit: Int
    let keep: Duration

    init(limit: Int = 1024, keep: Duration = .seconds(60)) {
        self.limit = limit
        self.keep = keep
    }

    func asked(_ request: UInt32, at time: ContinuousClock.Instant = .now) {
        asked.withLock { table in
            if table.count >= limit {
                table = table.filter { time - $0.value < keep }
            }
            if table.count < limit { table[request] = time }
        }
    }

    /// The time since `request` was asked, once; nil when unknown or answered before.
    func answered(_ request: UInt32, at time: ContinuousClock.Instant = .now) -> Duration? {
        asked.withLock { $0.removeValue(forKey: request) }.map { time - $0 }
    }

    var openCount: Int { asked.withLock { $0.count } }
}
