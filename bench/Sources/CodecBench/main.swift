// codec-bench: throughput and allocations per message.
//
//   bench/.build/release/codec-bench [NAME...]
//   bench/.build/release/codec-bench --iterations N [NAME...]   (for callgrind)
//
// With names, runs only the cases whose name contains one of them (the anchor
// always runs first, so every row keeps its ratio). With --iterations, runs
// each named case exactly N times, untimed: bench/callgrind.sh uses it.
//
// Cases run over the captured broadcasts of a real socket.io 4.8 cluster;
// each figure is per message (the cases cycle through the captures). The
// table goes to stdout, progress lines to stderr.

import BenchProgress

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let progress = BenchProgress("codec-bench")
var arguments = Array(CommandLine.arguments.dropFirst())
var countedIterations: Int?
if let flag = arguments.firstIndex(of: "--iterations") {
    guard flag + 1 < arguments.count, let n = Int(arguments[flag + 1]), n > 0 else {
        print("codec-bench: --iterations needs a positive number")
        exit(2)
    }
    countedIterations = n
    arguments.removeSubrange(flag...flag + 1)
}

let messages = CapturedMessages()
print("codec-bench: \(messages.payloads.count) captured broadcasts of 60-150 bytes (average \(messages.averageSize) bytes)")

let anchor = msgpackCBaselineCase(messages)
let otherCases = [
    msgpackReaderCase(messages),
    fastPathCase(messages),
    generalPathCase(messages),
    injectCase(messages),
    encodeBroadcastCase(messages),
]
let allCases = [anchor] + otherCases

let filters = arguments
let matching = allCases.filter { c in filters.contains { c.name.contains($0) } }
if !filters.isEmpty && matching.isEmpty {
    let names = allCases.map(\.name).joined(separator: ", ")
    print("codec-bench: no case matches \(filters.joined(separator: " ")); cases: \(names)")
    exit(2)
}

#if DEBUG
    print("codec-bench: warning: debug build; the figures mean little (use -c release)")
#endif

let runner = BenchRunner()
if let countedIterations {
    runner.runCounted(filters.isEmpty ? allCases : matching, iterations: countedIterations, progress: progress)
    exit(0)
}

let selected = filters.isEmpty ? allCases : [anchor] + matching.filter { $0.name != anchor.name }
print("codec-bench: median of \(runner.rounds) rounds, about \(runner.measuredTime) per case")
let results = runner.runAll(selected, progress: progress)

// Issue 2's targets, met or not, from this run.
print("")
print("issue 2 targets (this run):")
let anchorRate = results[0].messagesPerSecond
print("  msgpack-c alone: \(grouped(Int(anchorRate.rounded()))) msgs/s measured (issue 2 quotes ~3,000,000 here)")
if let hot = results.first(where: { $0.name.hasPrefix("hot-path") }) {
    let met = hot.messagesPerSecond >= 1_500_000 ? "met" : "NOT met"
    print(
        "  hot path ≥ 1,500,000 msgs/s on one core: \(grouped(Int(hot.messagesPerSecond.rounded()))) msgs/s, "
            + "\(fixed(hot.messagesPerSecond / 1_500_000 * 100, decimals: 0)) % of target, "
            + "\(fixed(hot.messagesPerSecond / anchorRate, decimals: 2)) × msgpack-c: \(met)")
}
if let inject = results.first(where: { $0.name == "inject-only" }) {
    let met = inject.allocationsPerMessage == 0 ? "met" : "NOT met"
    let allocations = fixed(inject.allocationsPerMessage, decimals: 2)
    print("  ack injection, 0 allocations into a reused buffer: \(allocations) allocs/msg: \(met)")
}
