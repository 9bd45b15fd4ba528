// subscriber-bench: the subscriber's read path alone, per transport.
//
//   bench/.build/release/subscriber-bench [MESSAGES] [ROUNDS] [TRANSPORT...]   (400000, 5, unix tcp tls)
//
// A subscriber connection (RedisConfiguration.connect, as busd opens it)
// subscribes to one channel; a publisher on the Unix socket queues MESSAGES
// messages of 150 bytes while the subscriber does not read (Redis holds them:
// `client-output-buffer-limit pubsub 0 0 0`); then the subscriber drains them
// the way busd's reader thread does (waitReadable, readAvailable,
// nextBufferedMessage) and is timed: wall clock and its thread's CPU. That
// is the subscriber's own ceiling, with Redis only writing. Prints the
// median of ROUNDS per transport. TLS: `rediss://localhost`, verified against
// a CA made for the run. Builds against older commits too (a transport the
// build cannot open is reported as such).

import BenchProgress
import BenchSupport
import BusCore
import Foundation
import Hiredis

let arguments = Array(CommandLine.arguments.dropFirst())
let messages = arguments.first.flatMap(Int.init) ?? 400_000
let rounds = arguments.dropFirst().first.flatMap(Int.init) ?? 5
let transports = arguments.count > 2 ? Array(arguments.dropFirst(2)) : ["unix", "tcp", "tls"]
let progress = BenchProgress("subscriber-bench")

let tls = try BenchTLS(directory: NSTemporaryDirectory() + "subscriber-bench-tls-\(getpid())")
defer { tls.remove() }
let redis = try BenchRedis(extraArguments: ["--client-output-buffer-limit", "pubsub 0 0 0"] + tls.serverArguments)
defer { redis.stop() }
let publisher = try redis.connect()
let payload = [UInt8](repeating: 0x78, count: 150)
let channel = Array("socket.io#/#room-1#".utf8)

@MainActor
func url(_ transport: String) -> String {
    switch transport {
    case "tcp": return redis.tcpURL
    case "tls": return tls.url
    default: return redis.unixURL
    }
}

/// One round: queue, then drain; (seconds, CPU ns of the draining thread).
@MainActor
func round(_ transport: String) throws -> (seconds: Double, cpu: UInt64) {
    let subscriber = try RedisConfiguration(url: url(transport)).connect(timeout: .seconds(5))
    defer { subscriber.close() }
    _ = try subscriber.command(["SUBSCRIBE", "socket.io#/#room-1#"])
    let command = Array("PUBLISH".utf8)
    var sent = 0
    while sent < messages {
        let batch = min(1000, messages - sent)
        for _ in 0..<batch { try publisher.append([command, channel, payload]) }
        for _ in 0..<batch { _ = try publisher.readReply() }
        sent += batch
    }
    var received = 0
    var bytes = 0
    let cpu0 = CPUTime.thread
    let t0 = monotonicNanoseconds()
    while received < messages {
        while true {
            let next = try subscriber.nextBufferedMessage { _, payload in
                received += 1
                bytes &+= payload.count
            }
            if case .none = next { break }
        }
        if received < messages, try subscriber.waitReadable(timeout: .seconds(5)) { try subscriber.readAvailable() }
    }
    let seconds = Double(monotonicNanoseconds() - t0) / 1e9
    if bytes != messages * payload.count { print("  (\(transport): \(bytes) payload bytes, expected \(messages * payload.count))") }
    return (seconds, CPUTime.thread - cpu0)
}

print("subscriber-bench: \(messages) queued messages of 150 bytes drained by one subscriber; median of \(rounds) rounds")
print("transport | msgs/s | subscriber CPU ns/msg | MB/s")
print("--- | --- | --- | ---")
for transport in transports {
    progress.note("\(transport): started")
    var results: [(seconds: Double, cpu: UInt64)] = []
    do {
        for _ in 0..<rounds { results.append(try round(transport)) }
    } catch {
        print("\(transport) | cannot connect with this build: \(error) | |")
        continue
    }
    let seconds = results.map(\.seconds).sorted()[rounds / 2]
    let cpu = results.map(\.cpu).sorted()[rounds / 2]
    print(
        String(
            format: "%@ | %.0f | %.0f | %.0f", transport, Double(messages) / seconds, Double(cpu) / Double(messages),
            Double(messages * 150) / seconds / 1e6))
    progress.note("\(transport): done")
}
