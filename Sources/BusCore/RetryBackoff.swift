/// Delays between reconnection attempts: exponential from `initial`, capped
/// at `maximum`, each drawn at random from the upper half of its step
/// ("equal jitter"), so that the sidecars of a cluster do not hammer a Redis
/// that just came back all at the same instant, while none waits longer
/// than the cap.
public struct RetryBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    /// The un-jittered delay of the next attempt.
    private(set) var step: Duration

    public init(initial: Duration = .milliseconds(50), maximum: Duration = .milliseconds(500)) {
        self.initial = max(initial, .milliseconds(1))
        self.maximum = max(maximum, self.initial)
        self.step = self.initial
    }

    /// The delay before the next attempt; doubles the step for the one after.
    public mutating func next<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Duration {
        let ceiling = min(step, maximum)
        step = min(step * 2, maximum)
        let nanoseconds = ceiling.nanoseconds
        let jittered = nanoseconds / 2 + Int64.random(in: 0...(nanoseconds - nanoseconds / 2), using: &generator)
        return .nanoseconds(jittered)
    }

    public mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// After a successful connection: the next outage starts from `initial`.
    public mutating func reset() { step = initial }
}
