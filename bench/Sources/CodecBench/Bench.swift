// A small benchmark harness: throughput and allocations per message.
//
// Each case is warmed up, then timed for about one second of wall time split
// into `rounds` rounds; the reported rate is the median round. Allocations are
// counted by CAllocCounter (which replaces malloc for the whole process) over
// one round and divided by that round's iterations.

import BenchProgress
import CAllocCounter

/// One thing to measure. `body` handles one message of `bytesPerMessage` bytes.
struct BenchCase {
    let name: String
    let bytesPerMessage: Int
    let body: () -> Void
}

struct BenchResult {
    let name: String
    let bytesPerMessage: Int
    /// Median over the rounds.
    let messagesPerSecond: Double
    let allocationsPerMessage: Double

    var nanosecondsPerMessage: Double { 1e9 / messagesPerSecond }
}

struct BenchRunner {
    var rounds = 5
    /// Wall time of all measured rounds of one case together.
    var measuredTime: Duration = .seconds(1)
    /// At least this much running before measuring.
    var warmUpTime: Duration = .milliseconds(100)
    /// A batch shorter than this is too short to time reliably.
    var minimumBatchTime: Duration = .milliseconds(10)

    func run(_ benchCase: BenchCase) -> BenchResult {
        let clock = ContinuousClock()
        let body = benchCase.body

        // Warm up while finding how many iterations take long enough to time.
        var batch = 1
        var warmedUp: Duration = .zero
        var batchTime: Duration = .zero
        while true {
            batchTime = clock.measure { repeatBody(body, times: batch) }
            warmedUp += batchTime
            if batchTime < minimumBatchTime {
                batch *= 2
            } else if warmedUp >= warmUpTime {
                break
            }
        }

        let roundTime = measuredTime / rounds
        let iterations = max(1, Int((Double(batch) * (roundTime / batchTime)).rounded()))

        var rates: [Double] = []
        rates.reserveCapacity(rounds)
        var allocationsPerMessage = 0.0
        for round in 0..<rounds {
            let allocationsBefore = alloc_counter_total()
            let elapsed = clock.measure { repeatBody(body, times: iterations) }
            let allocationsAfter = alloc_counter_total()
            rates.append(Double(iterations) / seconds(elapsed))
            if round == rounds - 1 {
                allocationsPerMessage = Double(allocationsAfter &- allocationsBefore) / Double(iterations)
            }
        }
        rates.sort()

        return BenchResult(
            name: benchCase.name,
            bytesPerMessage: benchCase.bytesPerMessage,
            messagesPerSecond: rates[rates.count / 2],
            allocationsPerMessage: allocationsPerMessage
        )
    }

    /// Runs the cases one after the other, printing each row as soon as it is
    /// measured (and a progress line on stderr as each starts and ends). The
    /// first case is the anchor: every row shows its rate as a ratio to it.
    func runAll(_ cases: [BenchCase], progress: BenchProgress) -> [BenchResult] {
        let table = ResultTable(nameWidth: max(4, cases.map(\.name.count).max() ?? 0))
        print(table.header)
        var results: [BenchResult] = []
        for (number, benchCase) in cases.enumerated() {
            let result = progress.phase("[\(number + 1)/\(cases.count)] \(benchCase.name)") { run(benchCase) }
            print(table.row(result, anchor: results.first ?? result))
            results.append(result)
        }
        return results
    }

    /// Runs each case exactly `iterations` times, untimed and without warm-up:
    /// for instruction counts under callgrind, where two runs of N and 2N
    /// iterations give the cost of one message as their difference over N.
    func runCounted(_ cases: [BenchCase], iterations: Int, progress: BenchProgress) {
        for benchCase in cases {
            progress.phase("\(benchCase.name) × \(iterations)") { repeatBody(benchCase.body, times: iterations) }
        }
    }
}

/// Keeps the optimizer from deleting work whose result is otherwise unused.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {}

/// One cell of mutable state for a case's body, behind a pointer.
///
/// A closure's captured `var` lives in a heap box whose every access is
/// checked for exclusivity at run time (swift_beginAccess/endAccess); in the
/// hot-path case those checks cost about 700 instructions per message, a
/// measurement artefact rather than codec work. A captured pointer is a `let`
/// and its `pointee` is not checked. Cells live until the process exits.
func cell<T>(_ value: T) -> UnsafeMutablePointer<T> {
    let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
    pointer.initialize(to: value)
    return pointer
}

/// Cycles through `count` items without a division per message.
struct Cursor {
    let count: Int
    private(set) var index = 0

    init(count: Int) { self.count = count }

    @inline(__always)
    mutating func next() -> Int {
        let current = index
        index = current + 1 == count ? 0 : current + 1
        return current
    }
}

@inline(never)
private func repeatBody(_ body: () -> Void, times: Int) {
    for _ in 0..<times {
        body()
    }
}

private func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) * 1e-18
}
