// codec-bench: throughput and allocations per message.
//
//   swift run -c release --package-path bench codec-bench [NAME...]
//
// With names, runs only the cases whose name contains one of them.
//
// For now two placeholder cases that check the harness and the allocation
// counter: array-append must show ~0 allocations per message, string-alloc at
// least 1. The codec cases take their place once SocketIOCodec is ready.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Appends 100 bytes to a reused buffer: no allocation once its capacity exists.
func arrayAppendCase() -> BenchCase {
    let payload = [UInt8](repeating: 0x61, count: 100)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(256)
    return BenchCase(name: "array-append", bytesPerMessage: payload.count) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: payload)
        blackHole(buffer)
    }
}

/// Builds a new 40-character String each time: too long for the inline
/// small-string form, so one heap allocation per message.
func stringAllocCase() -> BenchCase {
    let length = 40
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return BenchCase(name: "string-alloc", bytesPerMessage: length) {
        let text = String(unsafeUninitializedCapacity: length) { bytes in
            for index in 0..<length {
                // xorshift64: cheap, varied letters
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                bytes[index] = UInt8(ascii: "a") + UInt8(truncatingIfNeeded: state % 26)
            }
            return length
        }
        blackHole(text)
    }
}

let allCases = [arrayAppendCase(), stringAllocCase()]

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
