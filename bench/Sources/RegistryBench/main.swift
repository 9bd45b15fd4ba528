// registry-bench: the ownership registry at a million sockets.
//
//   swift run -c release --package-path bench registry-bench [SOCKETS]
//
// Prints: resident memory per tracked socket (the registry busd keeps), the
// time to mirror every entry into Redis (pipelined, a real redis-server on a
// free loopback port started here), and find-socket latency (one EVAL round
// trip) over 10,000 lookups. Redis is started with `--save ''` and stopped
// at the end. Targets (issue 3): ≤ 200 bytes per socket, find-socket p99
// < 2 ms on loopback. Progress lines go to stderr.

import BenchProgress
import BenchSupport
import BusCore
import Foundation
import Hiredis
import Logging

let socketCount = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000_000
let lookups = 10_000
let progress = BenchProgress("registry-bench")

func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kb * 1024
}

/// 20-character ids shaped like socket.io's base64id.
func socketId(_ n: Int) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var x = UInt64(n) &* 0x9E37_79B9_7F4A_7C15 ^ 0xD1B5_4A32_D192_ED03
    var bytes = [UInt8](repeating: 0, count: 20)
    for i in 0..<20 {
        x ^= x >> 29
        x = x &* 0xBF58_476D_1CE4_E5B9
        bytes[i] = alphabet[Int(x >> 58)]
    }
    return String(decoding: bytes, as: UTF8.self)
}

// 1. Memory.
print("registry-bench: \(socketCount) sockets")
let ids = progress.phase("making \(socketCount) socket ids") { (0..<socketCount).map(socketId) }
let bytesPerSocket = progress.phase("1/3 memory: registering \(socketCount) sockets") { () -> Double in
    let before = residentBytes()
    var registry = SocketRegistry()
    for (i, id) in ids.enumerated() { registry.connect(id, namespace: i % 10 == 0 ? "/chat" : "/", at: 1_795_000_000_000 + Int64(i)) }
    let after = residentBytes()
    let perSocket = Double(after - before) / Double(socketCount)
    print(String(format: "  memory       %.1f bytes per tracked socket (RSS %d MB -> %d MB)", perSocket, before >> 20, after >> 20))
    withExtendedLifetime(registry) {}
    return perSocket
}

// 2. Mirror into a real redis-server.
let benchRedis = try BenchRedis()
defer { benchRedis.stop() }
let redisURL = benchRedis.tcpURL
let redis = try benchRedis.connect()

var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: redisURL), nodeId: "bench-node")
configuration.livenessTTL = .seconds(60)
configuration.cleanupInterval = .seconds(600)
var logger = Logger(label: "bench")
logger.logLevel = .critical
let member = ClusterMember(configuration: configuration, logger: logger) { _ in }
for (i, id) in ids.enumerated() { member.socketConnected(id, namespace: "/", at: 1_795_000_000_000 + Int64(i)) }
let clock = ContinuousClock()
let mirrorTime = progress.phase("2/3 mirror: writing \(socketCount) entries into redis-server") { () -> Duration in
    let start = clock.now
    member.start()
    var lastNote = clock.now
    while member.registryRewrites == 0 {
        usleep(1000)
        if clock.now - lastNote > .seconds(5) {
            progress.note("    still mirroring after \(clock.now - start)")
            lastNote = clock.now
        }
    }
    return clock.now - start
}
let stored = (try? redis.command(["HLEN", "socketbus:owner"]))?.integer ?? -1
let seconds = Double(mirrorTime.components.seconds) + Double(mirrorTime.components.attoseconds) / 1e18
print(String(format: "  mirror       %.2f s to write %d entries (%.0f entries/s, pipelined batches of 1000)", seconds, Int(stored), Double(socketCount) / seconds))

// 3. find-socket latency.
let lookup = RegistryLookup(connection: redis)
var samples: [Double] = []
samples.reserveCapacity(lookups)
var generator = SystemRandomNumberGenerator()
var misses = 0
progress.note("3/3 find-socket: \(lookups) lookups: started")
for _ in 0..<lookups {
    let id = ids[Int.random(in: 0..<ids.count, using: &generator)]
    let t0 = clock.now
    let found = try lookup.findSocket(id)
    let t = clock.now - t0
    if found == nil { misses += 1 }
    samples.append(Double(t.components.attoseconds) / 1e12 + Double(t.components.seconds) * 1e6)
}
progress.note("3/3 find-socket: done")
samples.sort()
let p50 = samples[samples.count / 2]
let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
print(String(format: "  find-socket  p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d lookups (%d misses)", p50, p99, samples.last ?? 0, lookups, misses))
member.stop(leave: false)

print("")
print("issue 3 targets (this run):")
func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }
print(String(format: "  ≤ 200 bytes per tracked socket: %.1f: ", bytesPerSocket) + verdict(bytesPerSocket <= 200))
print(String(format: "  find-socket p99 < 2 ms on loopback: %.0f µs: ", p99) + verdict(p99 < 2000))
