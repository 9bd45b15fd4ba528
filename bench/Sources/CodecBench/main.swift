// codec-bench: throughput and allocations per message.
//
//   swift run -c release --package-path bench codec-bench [NAME...]
//
// With names, runs only the cases whose name contains one of them.
//
// Cases run over the captured broadcasts of a real socket.io 4.8 cluster;
// each figure is per message (the cases cycle through the captures).

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let messages = CapturedMessages()
print("codec-bench: \(messages.payloads.count) captured broadcasts of 60-150 bytes (average \(messages.averageSize) bytes)")

let allCases = [
    msgpackDecodeCase(messages),
    fastPathCase(messages),
    generalPathCase(messages),
    injectCase(messages),
    encodeBroadcastCase(messages),
]

let filters = CommandLine.arguments.dropFirst()
let selected = filters.isEmpty ? allCases : allCases.filter { c in filters.contains { c.name.contains($0) } }
if selected.isEmpty {
    print(
        "codec-bench: no case matches \(filters.joined(separator: " ")); cases: \(allCases.map(\.name).joined(separator: ", "))"
    )
    exit(2)
}

#if DEBUG
    print("codec-bench: warning: debug build; the figures mean little (use -c release)")
#endif

let runner = BenchRunner()
print("codec-bench: median of \(runner.rounds) rounds, about \(runner.measuredTime) per case")
runner.runAll(selected)
