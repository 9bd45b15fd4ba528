// A small benchmark harness: throughput and allocations per message.
//
// Each case is warmed up, then timed for about one second of wall time split
// into `rounds` rounds; the reported rate is the median round. Allocations are
// counted by CAllocCounter (which replaces malloc for the whole process) over
// one round and divided by that round's iterations.

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

    /// Runs the cases one after the other, printing each row as soon as it is measured.
    @discardableResult
    func runAll(_ cases: [BenchCase]) -> [BenchResult] {
        let table = ResultTable(nameWidth: max(4, cases.map(\.name.count).max() ?? 0))
        print(table.header)
        var results: [BenchResult] = []
        for benchCase in cases {
            let result = run(benchCase)
            print(table.row(result))
            results.append(result)
        }
        return results
    }
}

/// Keeps the optimizer from deleting work whose result is otherwise unused.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {}

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

// MARK: - Output

private struct ResultTable {
    let nameWidth: Int
    let widths = (bytes: 7, rate: 14, ns: 10, allocs: 10)

    var header: String {
        let titles = [
            pad("name", nameWidth, left: true),
            pad("bytes", widths.bytes),
            pad("msgs/s", widths.rate),
            pad("ns/msg", widths.ns),
            pad("allocs/msg", widths.allocs),
        ]
        let rule = [nameWidth, widths.bytes, widths.rate, widths.ns, widths.allocs]
            .map { String(repeating: "-", count: $0) }
        return titles.joined(separator: " | ") + "\n" + rule.joined(separator: "-|-")
    }

    func row(_ result: BenchResult) -> String {
        [
            pad(result.name, nameWidth, left: true),
            pad(String(result.bytesPerMessage), widths.bytes),
            pad(grouped(Int(result.messagesPerSecond.rounded())), widths.rate),
            pad(fixed(result.nanosecondsPerMessage, decimals: 1), widths.ns),
            pad(fixed(result.allocationsPerMessage, decimals: 2), widths.allocs),
        ].joined(separator: " | ")
    }
}

private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + fill : fill + text
}

/// 12345678 -> "12,345,678"
private func grouped(_ value: Int) -> String {
    let digits = Array(String(value.magnitude))
    var out = value < 0 ? "-" : ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 {
            out.append(",")
        }
        out.append(digit)
    }
    return out
}

/// Fixed-point text without Foundation: fixed(3.14159, decimals: 2) -> "3.14"
private func fixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return String(value) }
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value.magnitude * Double(scale)).rounded())
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(scaled) }
    let fraction = String(scaled % scale)
    return sign + String(scaled / scale) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}
