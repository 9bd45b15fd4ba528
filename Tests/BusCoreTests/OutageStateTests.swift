@testable import BusCore
import Testing

/// The pure parts of outage survival: back-off, the bounded outbound buffer,
/// and the availability state machine.
@Suite("outage survival: pure parts")
struct OutageStateTests {
    /// A fixed sequence, so that jitter is reproducible.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: [
        // initial, maximum, the un-jittered steps of eight attempts
        (50, 500, [50, 100, 200, 400, 500, 500, 500, 500]),
        (100, 100, [100, 100, 100, 100, 100, 100, 100, 100]),
        (1, 8, [1, 2, 4, 8, 8, 8, 8, 8]),
    ])
    func backoffDoublesUpToTheCapWithJitterInTheUpperHalf(initial: Int, maximum: Int, steps: [Int]) {
        var backoff = RetryBackoff(initial: .milliseconds(initial), maximum: .milliseconds(maximum))
        var generator = SplitMix(state: 7)
        var seen = Set<Duration>()
        for step in steps {
            let delay = backoff.next(using: &generator)
            #expect(delay >= .milliseconds(step) / 2 && delay <= .milliseconds(step), "step \(step)ms gave \(delay)")
            seen.insert(delay)
        }
        #expect(seen.count > 1, "jitter draws different delays")
        backoff.reset()
        #expect(backoff.next(using: &generator) <= .milliseconds(initial))
    }

    @Test func backoffNeverGoesBelowOneMillisecondOrAboveItsCap() {
        var backoff = RetryBackoff(initial: .zero, maximum: .zero)
        for _ in 0..<20 { #expect(backoff.next() <= .milliseconds(1)) }
    }

    private static func command(_ n: Int) -> [[UInt8]] { [Array("PUBLISH".utf8), Array("c".utf8), Array("\(n)".utf8)] }
    private static func numbers(_ commands: [[[UInt8]]]) -> [Int] { commands.map { Int(String(decoding: $0[2], as: UTF8.self))! } }

    @Test(arguments: [
        (OutboundOverflowPolicy.dropOldest, [5, 6, 7, 8, 9]),
        (.dropNewest, [0, 1, 2, 3, 4]),
    ])
    func fullBufferDropsByPolicyAndCounts(policy: OutboundOverflowPolicy, kept: [Int]) {
        var queue = OutboundQueue(limit: 5, policy: policy)
        queue.append(contentsOf: (0..<10).map(Self.command))
        #expect(queue.count == 5)
        #expect(queue.dropped == 5)
        #expect(Self.numbers(queue.popFirst(100)) == kept)
        #expect(queue.isEmpty)
    }

    @Test func aFailedBatchGoesBackInFrontOfWhatCameSince() {
        var queue = OutboundQueue(limit: 10, policy: .dropOldest)
        queue.append(contentsOf: (0..<6).map(Self.command))
        let batch = queue.popFirst(4)
        queue.append(contentsOf: (6..<8).map(Self.command))
        queue.pushFront(batch)
        #expect(Self.numbers(queue.popFirst(100)) == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(queue.dropped == 0)
    }

    @Test(arguments: [
        (OutboundOverflowPolicy.dropOldest, [2, 3, 4, 5, 6]),
        (.dropNewest, [0, 1, 2, 3, 4]),
    ])
    func aReturnedBatchThatOverfillsTheBufferDropsByPolicy(policy: OutboundOverflowPolicy, kept: [Int]) {
        var queue = OutboundQueue(limit: 5, policy: policy)
        queue.append(contentsOf: (0..<3).map(Self.command))
        let batch = queue.popFirst(3)
        queue.append(contentsOf: (3..<7).map(Self.command))
        queue.pushFront(batch)
        #expect(Self.numbers(queue.popFirst(100)) == kept)
        #expect(queue.dropped == 2)
    }

    @Test func dropsAtTheFrontOfALargeBufferKeepOrderAcrossCompaction() {
        var queue = OutboundQueue(limit: 10_000, policy: .dropOldest)
        for n in 0..<50_000 { queue.append(contentsOf: [Self.command(n)]) }
        #expect(queue.count == 10_000 && queue.dropped == 40_000)
        #expect(Self.numbers(queue.popFirst(3)) == [40_000, 40_001, 40_002])
        #expect(Self.numbers(Array(queue.popFirst(100_000).suffix(1))) == [49_999])
    }

    @Test func availabilityStartsDownAndReportsOutagesOnlyAfterTheFirstConnection() {
        let start = ContinuousClock.now
        var machine = RedisAvailability(now: start)
        #expect(!machine.isReachable)
        #expect(machine.update(subscriberReady: true, now: start) == nil)
        #expect(machine.update(mirrorReady: true, now: start + .milliseconds(10)) == .becameReachable(outage: nil))
        // Either connection failing starts an outage; the second adds nothing.
        #expect(machine.update(subscriberReady: false, now: start + .seconds(1)) == .becameUnreachable)
        #expect(machine.update(mirrorReady: false, now: start + .seconds(1)) == nil)
        #expect(machine.update(mirrorReady: true, now: start + .seconds(2)) == nil)
        #expect(machine.update(subscriberReady: true, now: start + .seconds(3)) == .becameReachable(outage: .seconds(2)))
        #expect(machine.isReachable)
        // Repeated reports change nothing.
        #expect(machine.update(subscriberReady: true, now: start + .seconds(4)) == nil)
    }
}
