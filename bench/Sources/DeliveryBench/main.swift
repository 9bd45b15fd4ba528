// delivery-bench: Redis → busd → connector, on real parts.
//
//   swift run -c release --package-path bench delivery-bench [MESSAGES]
//
// A redis-server (Unix socket, started here), busd's cluster member and node
// link (the same code busd runs, in this process), and a minimal connector
// reading DELIVER frames off the node link's Unix socket. Messages are
// ~150-byte emitter broadcasts to a room the connector's socket is in.
//
// Prints, with the figures of issue 4 as targets:
//   1. routed throughput: messages published as fast as a pipelined
//      publisher can, counted as DELIVER frames at the connector;
//   2. latency publish → DELIVER at the connector at a paced 100k msg/s;
//   3. the cost of messages with no local target: busd's CPU per message
//      (process CPU minus the publisher's thread) for room channels this node
//      does not have, end to end; and the routing call alone, in a loop.

import BenchSupport
@_spi(Benchmarks) import BusCore
import Foundation
import Hiredis
import Logging
import LocalProtocol
import SocketIOCodec

let messages = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 400_000
let socketId = "benchSocketAAAAAAAAB"

/// Emitter broadcasts to `room`, `["tick", seq, padding]`, padded to ~150 bytes.
func payloads(count: Int, room: String) throws -> [[UInt8]] {
    try (0..<count).map { seq in
        let message = BroadcastMessage(
            uid: "emitter", data: [.string("tick"), .number(Double(seq)), .string(String(repeating: "x", count: 88))],
            namespace: "/", rooms: [.name(room)])
        return try message.encode()
    }
}

/// Reads DELIVER frames and stamps each message's arrival by its sequence number.
final class BenchConnector: @unchecked Sendable {
    let fd: Int32
    var arrivals: [UInt64]
    var delivered = 0
    let done = DispatchSemaphore(value: 0)
    var expected = Int.max
    /// This thread's CPU time when the expected count was reached.
    var cpuAtDone: UInt64 = 0

    init(path: String, capacity: Int) throws {
        arrivals = [UInt64](repeating: 0, count: capacity)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ frame: LocalFrame) {
        let bytes = frame.encoded
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Frames are walked by their length prefix; only DELIVER's packet is
    /// looked at (for the sequence number after `["tick",`).
    func run() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            var offset = 0
            let now = monotonicNanoseconds()
            while buffer.count - offset >= 4 {
                let length = Int(buffer[offset]) << 24 | Int(buffer[offset + 1]) << 16 | Int(buffer[offset + 2]) << 8 | Int(buffer[offset + 3])
                guard buffer.count - offset - 4 >= length else { break }
                if buffer[offset + 4] == 0x20, let seq = Self.sequence(buffer, frameStart: offset + 5), seq < arrivals.count {
                    arrivals[seq] = now
                    delivered += 1
                    if delivered == expected {
                        cpuAtDone = CPUTime.thread
                        done.signal()
                    }
                }
                offset += 4 + length
            }
            buffer.removeFirst(offset)
        }
    }

    static func sequence(_ b: [UInt8], frameStart: Int) -> Int? {
        var i = frameStart + 8 + 1  // ack id, flags
        let nspLength = Int(b[i]) << 8 | Int(b[i + 1])
        i += 2 + nspLength
        let count = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
        i += 4
        for _ in 0..<count { i += 2 + (Int(b[i]) << 8 | Int(b[i + 1])) }
        i += 4  // packet length
        // Packet: 2["tick",<seq>,...
        i += 9
        var seq = 0
        while b[i] >= 0x30 && b[i] <= 0x39 {
            seq = seq * 10 + Int(b[i] - 0x30)
            i += 1
        }
        return seq
    }
}

/// CPU seconds per thread name, from /proc (clock ticks of 10 ms).
func threadCPU() -> [String: Double] {
    var result: [String: Double] = [:]
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    for tid in tasks {
        guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        result[comm.trimmingCharacters(in: .whitespacesAndNewlines), default: 0] += (user + system) / 100
    }
    return result
}

/// Publishes payloads in pipelined batches; returns the publisher thread's CPU ns.
func publish(_ redis: RedisConnection, channel: [UInt8], payloads: ArraySlice<[UInt8]>, batch: Int = 500, sent: ((Int) -> Void)? = nil) throws -> UInt64 {
    let cpu0 = CPUTime.thread
    let publishCommand = Array("PUBLISH".utf8)
    var index = payloads.startIndex
    while index < payloads.endIndex {
        let end = min(index + batch, payloads.endIndex)
        for i in index..<end { try redis.append([publishCommand, channel, payloads[i]]) }
        try redis.flush()
        sent?(end)
        for _ in index..<end { _ = try redis.readReply() }
        index = end
    }
    return CPUTime.thread - cpu0
}

let redis = try BenchRedis(extraArguments: ["--client-output-buffer-limit", "pubsub 0 0 0"])
defer { redis.stop() }
var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: redis.unixURL), nodeId: "bench")
configuration.ackPolicy = .none
var logger = Logger(label: "delivery-bench")
logger.logLevel = .critical
let relay = NodeCommandRelay()
let member = ClusterMember(configuration: configuration, logger: logger, onBatchEnd: { relay.flush() }) { relay.forward($0) }
let linkPath = redis.directoryPath + "/busd.sock"
let link = NodeLinkServer(configuration: .init(path: linkPath), member: member, logger: logger)
relay.connect(to: link)
member.start()
try link.start()

let connector = try BenchConnector(path: linkPath, capacity: max(messages, 300_000))
connector.send(.hello(version: 1, node: "bench", pid: UInt32(getpid())))
connector.send(.socketConnect(namespace: "/", socketId: socketId, connectedAt: 1))
connector.send(.socketJoin(namespace: "/", socketId: socketId, rooms: ["room-1"]))
let reader = Thread { connector.run() }
reader.start()
while member.socket(socketId)?.rooms != ["room-1"] || member.subscribedPatterns.count < 2 { usleep(1000) }
let publisher = try redis.connect()
let roomChannel = Array("socket.io#/#room-1#".utf8)

print("delivery-bench: \(messages) messages of ~150 bytes, redis-server on a Unix socket, 2-core machine shared by all parts")
let sample = try payloads(count: 1, room: "room-1")[0]
print("  payload      \(sample.count) bytes of msgpack, one local target socket")

// 1. Throughput.
let all = try payloads(count: messages, room: "room-1")
connector.expected = messages
let processCPU0 = CPUTime.process
let threads0 = threadCPU()
let t0 = monotonicNanoseconds()
let throughputPublisherCPU = try publish(publisher, channel: roomChannel, payloads: all[...])
let publishedAt = monotonicNanoseconds()
if connector.done.wait(timeout: .now() + 120) == .timedOut { print("  (only \(connector.delivered) of \(messages) arrived)") }
let t1 = monotonicNanoseconds()
let processCPU1 = CPUTime.process
let threads1 = threadCPU()
let seconds = Double(t1 - t0) / 1e9
print(
    String(
        format: "  routed       %.0f msg/s (%d DELIVER frames in %.2f s; publisher done after %.2f s)  target ≥ 750000",
        Double(connector.delivered) / seconds, connector.delivered, seconds, Double(publishedAt - t0) / 1e9))
let perThread = threads1
    .map { name, cpu in (name, (cpu - (threads0[name] ?? 0)) / Double(messages) * 1e6) }
    .filter { $0.1 > 0.05 }.sorted { $0.1 > $1.1 }
print("  routed       busd threads, µs per message: " + perThread.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", "))
// busd's share: the process's CPU minus the publisher's and the connector's
// threads (the connector's CPU is counted from its start: an upper bound on
// its share, so this is a lower bound on busd's).
let busdRoutedCPU = Double(processCPU1 - processCPU0) - Double(throughputPublisherCPU) - Double(connector.cpuAtDone)
print(
    String(
        format: "  routed       busd CPU ≈ %.2f µs per routed message (≈ %.0f msg/s if busd had a core to itself; Redis and the test's publisher and connector share the other)",
        busdRoutedCPU / Double(messages) / 1e3, Double(messages) / (busdRoutedCPU / 1e9)))

// 2. Latency at a paced 100k msg/s for 3 s.
let paced = 300_000
let pacedPayloads = try payloads(count: paced, room: "room-1")
connector.arrivals = [UInt64](repeating: 0, count: paced)
connector.delivered = 0
connector.expected = paced
var sentAt = [UInt64](repeating: 0, count: paced)
let batch = 10  // every 100 µs
let start = monotonicNanoseconds()
var next = 0
while next < paced {
    let due = start + UInt64(next / batch) * 100_000
    // Sleep, not spin: a spinning publisher would take a core from busd.
    let now0 = monotonicNanoseconds()
    if due > now0 { usleep(UInt32((due - now0) / 1000)) }
    let end = min(next + batch, paced)
    let now = monotonicNanoseconds()
    for i in next..<end { sentAt[i] = now }
    _ = try publish(publisher, channel: roomChannel, payloads: pacedPayloads[next..<end], batch: batch)
    next = end
}
_ = connector.done.wait(timeout: .now() + 30)
var latencies: [UInt64] = []
latencies.reserveCapacity(paced)
for i in 0..<paced where connector.arrivals[i] > 0 { latencies.append(connector.arrivals[i] &- sentAt[i]) }
latencies.sort()
print(
    String(
        format: "  latency      at 100k msg/s: p50 %.0f µs, p99 %.0f µs, p99.9 %.0f µs, max %.0f µs (%d of %d arrived)  target p99 < 1000 µs",
        Double(percentile(latencies, 0.5)) / 1e3, Double(percentile(latencies, 0.99)) / 1e3, Double(percentile(latencies, 0.999)) / 1e3,
        Double(latencies.last ?? 0) / 1e3, latencies.count, paced))

// 3. No local target.
let elsewhere = try payloads(count: messages, room: "room-elsewhere")
let elsewhereChannel = Array("socket.io#/#room-elsewhere#".utf8)
let receivedBefore = member.statistics.received
let cpuBefore = CPUTime.process
let publisherCPU = try publish(publisher, channel: elsewhereChannel, payloads: elsewhere[...])
while member.statistics.received < receivedBefore + messages { usleep(1000) }
let busdCPU = Double(CPUTime.process - cpuBefore) - Double(publisherCPU)
print(
    String(
        format: "  no target    %.2f µs of busd CPU per message, end to end (Redis read + filter; %d room-channel messages)",
        busdCPU / Double(messages) / 1e3, messages))

let iterations = 2_000_000
let loopCPU0 = CPUTime.thread
for i in 0..<iterations { member.route(channel: elsewhereChannel, payload: elsewhere[i % elsewhere.count]) }
let perCall = Double(CPUTime.thread - loopCPU0) / Double(iterations)
print(String(format: "  no target    %.3f µs per message in the routing call alone (%d calls)  target < 0.3 µs", perCall / 1e3, iterations))

let namespaceWide = try (0..<10_000).map { seq in
    try BroadcastMessage(
        uid: "emitter", data: [.string("tick"), .number(Double(seq)), .string(String(repeating: "x", count: 88))], namespace: "/",
        rooms: [.name("a"), .name("b")]
    ).encode()
}
let namespaceChannel = Array("socket.io#/#".utf8)
let wideCPU0 = CPUTime.thread
for i in 0..<iterations / 4 { member.route(channel: namespaceChannel, payload: namespaceWide[i % namespaceWide.count]) }
print(
    String(
        format: "  no target    %.3f µs per message on the namespace channel (rooms the node lacks: decoded, then dropped)",
        Double(CPUTime.thread - wideCPU0) / Double(iterations / 4) / 1e3))

link.stop()
member.stop(leave: false)
