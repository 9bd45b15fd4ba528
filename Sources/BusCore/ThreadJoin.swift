import Dispatch
import Logging

/// Waits until a thread has signalled `finished` (as its last act), however
/// long that takes: a stop that gave up after a while would let the thread
/// run on into what its owner frees next. Every blocking call of busd's
/// threads is bounded (the Redis connection's time-out), so the end comes;
/// each `patience` that passes first is logged. The semaphore is signalled
/// again, so a later stop of the same thread returns at once.
func join(_ finished: DispatchSemaphore, thread: String, patience: Duration, logger: Logger) {
    let start = ContinuousClock.now
    while finished.wait(timeout: .now() + .milliseconds(Int(patience.milliseconds))) == .timedOut {
        logger.warning(
            "still waiting for a thread to end",
            metadata: ["thread": "\(thread)", "waited": "\(ContinuousClock.now - start)"]
        )
    }
    finished.signal()
}
