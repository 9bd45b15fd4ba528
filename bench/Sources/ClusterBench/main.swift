// cluster-bench: busd's own added latency per adapter request it answers
// itself (issue 13, item 9: p99 < 1 ms, node time excluded).
//
//   bench/.build/release/cluster-bench [REQUESTS] [SOCKETS...]
//
// busd's cluster member and node link (the code busd runs, in this process)
// and a stand-in node on the link holding SOCKETS sockets (default 1000 and
// 10000), each in its own id room and in one of 100 shared rooms. For each
// kind of request busd answers without asking its node (SOCKETS and
// ALL_ROOMS from the registry of a v2 node; REMOTE_FETCH and the acked
// BROADCAST's client count for a v1 node; all of them with no node),
// REQUESTS requests (default 10000) in the stock 8.3 encoding:
//
//   1. in process: the subscriber's entry point (`route`, @_spi(Benchmarks))
//      timed from the request's bytes to the answer queued on the connection
//      that publishes it (decode, registry, the request machine, encoding,
//      the queue). Redis is unreachable in this phase, so nothing else runs
//      on the router's state; the queued answers are counted, and the CPU
//      of the request engine's deadline thread (busd-requests) per request.
//   2. end to end through a real redis-server on loopback TCP: a requester
//      PUBLISHes each request and waits for its answer on
//      `socket.io-response#/#`, one at a time; the anchor, in the same run, is
//      the same PUBLISH round trip through Redis with no one answering (a
//      message on the response channel, read back by the requester).
//
// Figures on standard output, progress on standard error.

import BenchProgress
import BenchSupport
@_spi(Benchmarks) import BusCore
import Foundation
import Hiredis
import LocalProtocol
import Logging
import SocketIOCodec

let arguments = Array(CommandLine.arguments.dropFirst()).compactMap(Int.init)
let requestsPerCase = arguments.first ?? 10_000
let socketCounts = arguments.count > 1 ? Array(arguments.dropFirst()) : [1_000, 10_000]
let progress = BenchProgress("cluster-bench")
let requestChannel = Array("socket.io-request#/#".utf8)
/// A case stops after this long (answers that list every socket of a large
/// node take milliseconds each); the figures then say how many ran.
let caseBudgetNanoseconds: UInt64 = 10_000_000_000
var ids = RequestIds()
var failures: [String] = []

var worstInProcess: (p99: Double, name: String) = (0, "")
var worstEndToEnd: (p99: Double, name: String) = (0, "")
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }

print(
    "cluster-bench: \(requestsPerCase) requests of each kind busd answers itself, stock 8.3 encoding, namespace \"/\""
)

// 1. In process.
for socketCount in socketCounts {
    let sockets = BenchSockets(count: socketCount, rooms: 100)
    print("")
    print(
        "in process, request bytes → answer queued for PUBLISH (route(), Redis unreachable), node with \(socketCount) sockets:"
    )
    try progress.phase("in process, \(socketCount) sockets") {
        // Answers wait in the outbound queue (Redis is away); keep the memory bounded.
        let busd = try Busd(redisURL: "unix://\(scratch)/no-redis.sock", directory: scratch, outboundLimit: 1000)
        defer { busd.stop() }
        var node: BenchNode? = nil
        var presence = -1
        for requestCase in Requests.cases(sockets) {
            if requestCase.presence != presence {
                if let connected = node { try busd.disconnect(connected) }
                node =
                    requestCase.presence == 0
                    ? nil : try busd.connectNode(version: UInt16(requestCase.presence), sockets: sockets)
                presence = requestCase.presence
            }
            let payloads = (0..<requestsPerCase).map { _ in requestCase.make(ids.take()) }
            // Warm-up (caches, the registry view), not timed.
            for payload in payloads.prefix(200) { busd.member.route(channel: requestChannel, payload: payload) }
            busd.relay.flush()
            let queued0 = busd.queued
            let timerCPU0 = threadCPUMicroseconds(named: "busd-requests")
            var samples: [UInt64] = []
            samples.reserveCapacity(payloads.count)
            let started = monotonicNanoseconds()
            for payload in payloads {
                let t0 = monotonicNanoseconds()
                busd.member.route(channel: requestChannel, payload: payload)
                samples.append(monotonicNanoseconds() - t0)
                // Commands for the node (DELIVER) go out off the clock.
                busd.relay.flush()
                if monotonicNanoseconds() - started > caseBudgetNanoseconds { break }
            }
            let answers = busd.queued - queued0
            let timerCPU = (threadCPUMicroseconds(named: "busd-requests") - timerCPU0) / Double(max(1, samples.count))
            let (text, p99) = summary(samples)
            line(
                requestCase.name,
                text,
                "\(samples.count) requests, \(answers) answers queued; deadline thread "
                    + String(format: "%.1f", timerCPU)
                    + " µs CPU/request"
            )
            if answers < samples.count {
                failures.append("in process: \(requestCase.name): \(answers) answers for \(samples.count) requests")
            }
            if p99 > worstInProcess.p99 { worstInProcess = (p99, "\(requestCase.name), \(socketCount) sockets") }
        }
        if let node { try busd.disconnect(node) }
        // What a busd spends on the answers to other servers' requests: every
        // server reads every answer on the shared response channel.
        let foreign = Requests.foreignFetchResponse(sockets, requestId: ids.take())
        let responseBytes = Array("socket.io-response#/#".utf8)
        for _ in 0..<5 { busd.member.route(channel: responseBytes, payload: foreign) }
        var samples: [UInt64] = []
        let started = monotonicNanoseconds()
        while samples.count < 1000 && monotonicNanoseconds() - started < caseBudgetNanoseconds / 2 {
            let t0 = monotonicNanoseconds()
            busd.member.route(channel: responseBytes, payload: foreign)
            samples.append(monotonicNanoseconds() - t0)
        }
        line(
            "another server's REMOTE_FETCH answer (\(socketCount) sockets, \(foreign.count / 1024) KiB), not for busd",
            summary(samples).text,
            "\(samples.count) answers read and dropped (not an answer busd gives)"
        )
    }
}

// 2. End to end through redis-server.
// Stopped before exit (exit skips top-level defers, and the server would
// keep standard output open).
let redis = try BenchRedis()
let responseChannel = "socket.io-response#/#"

/// Sends each payload on `channel` and waits for the message on the response
/// channel that names its requestId; returns the round trips.
func roundTrips(
    _ payloads: [(String, [UInt8])],
    channel: [UInt8],
    publisher: RedisConnection,
    listener: RedisConnection
) throws -> [UInt64] {
    var samples: [UInt64] = []
    samples.reserveCapacity(payloads.count)
    let publish = Array("PUBLISH".utf8)
    let started = monotonicNanoseconds()
    for (requestId, payload) in payloads {
        if monotonicNanoseconds() - started > caseBudgetNanoseconds { break }
        let needle = Array(requestId.utf8)
        let t0 = monotonicNanoseconds()
        _ = try publisher.command([publish, channel, payload])
        while true {
            let reply = try listener.readReply()
            guard let parts = reply.array, parts.count == 3, case .bulk(let message) = parts[2] else { continue }
            if message.firstRange(of: needle) != nil { break }
        }
        samples.append(monotonicNanoseconds() - t0)
    }
    return samples
}

for socketCount in socketCounts {
    let sockets = BenchSockets(count: socketCount, rooms: 100)
    print("")
    print(
        "end to end through redis-server (loopback TCP), PUBLISH request → answer read by the requester, node with \(socketCount) sockets:"
    )
    try progress.phase("end to end, \(socketCount) sockets") {
        let busd = try Busd(redisURL: redis.tcpURL, directory: scratch, outboundLimit: 100_000)
        defer { busd.stop() }
        try waitUntil("busd's subscriptions") { busd.member.subscribedChannels.contains("socket.io-request#/#") }
        let publisher = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: redis.port))
        let listener = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: redis.port), timeout: .seconds(5))
        _ = try listener.command(["SUBSCRIBE", responseChannel])
        // The anchor: the same round trip through Redis, nobody answering.
        let echoes = (0..<requestsPerCase).map { _ -> (String, [UInt8]) in
            let id = ids.take()
            return (id, Array("{\"requestId\":\"\(id)\",\"echo\":true}".utf8))
        }
        _ = try roundTrips(
            Array(echoes.prefix(200)),
            channel: Array(responseChannel.utf8),
            publisher: publisher,
            listener: listener
        )
        let echo = summary(
            try roundTrips(echoes, channel: Array(responseChannel.utf8), publisher: publisher, listener: listener)
        )
        line("anchor: PUBLISH round trip, no one answering", echo.text, "\(echoes.count) messages")
        var node: BenchNode? = nil
        var presence = -1
        for requestCase in Requests.cases(sockets) {
            if requestCase.presence != presence {
                if let connected = node { try busd.disconnect(connected) }
                node =
                    requestCase.presence == 0
                    ? nil : try busd.connectNode(version: UInt16(requestCase.presence), sockets: sockets)
                presence = requestCase.presence
            }
            let payloads = (0..<requestsPerCase).map { _ -> (String, [UInt8]) in
                let id = ids.take()
                return (id, requestCase.make(id))
            }
            _ = try roundTrips(
                Array(payloads.prefix(200)),
                channel: requestChannel,
                publisher: publisher,
                listener: listener
            )
            let samples = try roundTrips(payloads, channel: requestChannel, publisher: publisher, listener: listener)
            let (text, p99) = summary(samples)
            line(
                requestCase.name,
                text,
                String(format: "%d requests; p99 − anchor p99 %.1f µs", samples.count, p99 - echo.p99)
            )
            if p99 > worstEndToEnd.p99 { worstEndToEnd = (p99, "\(requestCase.name), \(socketCount) sockets") }
        }
        if let node { try busd.disconnect(node) }
        publisher.close()
        listener.close()
    }
}

print("")
print("issue 13 item 9 target (this run):")
print(
    String(
        format: "  busd's own added latency p99 < 1 ms (in process, worst case): %.1f µs (%@): ",
        worstInProcess.p99,
        worstInProcess.name
    )
        + (worstInProcess.p99 < 1000 ? "met" : "NOT met")
)
print(
    String(
        format: "  end to end, worst p99 (Redis round trips included): %.1f µs (%@)",
        worstEndToEnd.p99,
        worstEndToEnd.name
    )
)
for failure in failures { print("  FAILED: \(failure)") }
progress.flush()
redis.stop()
exit(failures.isEmpty ? 0 : 1)
