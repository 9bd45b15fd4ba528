// request-bench: busd's own cost of answering the cluster's requests.
//
//   swift run -c release --package-path bench request-bench [SOCKETS]
//
// A redis-server (Unix socket, started here) and busd's cluster member (the
// same code busd runs, in this process) with SOCKETS sockets of a v1 node in
// its registry,
// so that the answers come from the registry without a node round trip.
// Each socket is in its own id room, one room of its own and a room shared
// by 100 sockets.
//
// Prints:
//   1. end to end: a requester publishes a stock request, and times until the
//      answer arrives on the response channel; beside it, the anchor: one
//      plain PUBLISH to a subscriber of the same connection. busd's added
//      latency is the request's time minus two such hops;
//   2. the routing call alone (decode, answer from the registry, encode,
//      hand the PUBLISH to the Redis writer), per request, in a loop;
//   3. parsing and writing a 10k-socket fetchSockets answer (JSON).
// Progress lines go to stderr.

import BenchProgress
import BenchSupport
@_spi(Benchmarks) import BusCore
import Foundation
import Hiredis
import Logging
import SocketIOCodec

let sockets = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000
let progress = BenchProgress("request-bench")

progress.note("set-up: redis-server, busd's cluster member, \(sockets) sockets")
let redis = try BenchRedis()
defer { redis.stop() }
var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: redis.unixURL), nodeId: "bench")
configuration.pingInterval = .seconds(5)
var logger = Logger(label: "request-bench")
logger.logLevel = .critical
/// A member with the sockets of a v1 node.
@MainActor
func makeMember() -> ClusterMember {
    let member = ClusterMember(configuration: configuration, logger: logger) { _ in }
    member.nodeSessionStarted(version: 1)
    for i in 0..<sockets {
        let id = String(format: "benchSocket%09d", i)
        member.socketConnected(id, namespace: "/")
        member.socketJoined(id, rooms: ["own-\(i)", "shared-\(i / 100)"])
    }
    return member
}
let member = makeMember()
member.start()
while member.subscribedChannels.count < 3 { usleep(1000) }

let requests: [(name: String, json: (String) -> String)] = [
    ("ALL_ROOMS", { #"{"uid":"benchR","requestId":"\#($0)","type":1}"# }),
    ("SOCKETS (1 room)", { #"{"uid":"benchR","requestId":"\#($0)","type":0,"rooms":["shared-3"]}"# }),
    (
        "REMOTE_FETCH (1 room)",
        { #"{"uid":"benchR","requestId":"\#($0)","type":5,"opts":{"rooms":["shared-3"],"except":[]}}"# }
    ),
]

let subscriber = try redis.connect()
try subscriber.append(["SUBSCRIBE", "socket.io-response#/#", "bench-anchor"])
_ = try subscriber.readReply()
_ = try subscriber.readReply()
let publisher = try redis.connect()

/// Publishes and waits for the next message on the subscriber; nanoseconds.
@MainActor
func roundTrip(_ channel: String, _ payload: String) throws -> UInt64 {
    let start = monotonicNanoseconds()
    try publisher.append(["PUBLISH", channel, payload])
    try publisher.flush()
    while true {
        if let reply = try subscriber.bufferedReply(), reply.array?.first?.string == "message" { break }
        if try subscriber.waitReadable(timeout: .seconds(2)) { try subscriber.readAvailable() } else { break }
    }
    let elapsed = monotonicNanoseconds() - start
    _ = try publisher.readReply()
    return elapsed
}

func micro(_ ns: UInt64) -> String { String(format: "%.1f", Double(ns) / 1e3) }

let samples = 2_000
print(
    "request-bench: \(sockets) sockets of a v1 node in busd's registry, redis-server on a Unix socket, 2-core machine shared by all parts"
)
progress.note("1/2 end to end: started")
var anchor: [UInt64] = []
for i in 0..<samples { anchor.append(try roundTrip("bench-anchor", "x\(i)")) }
anchor.sort()
print(
    "  anchor: one PUBLISH hop to a subscriber   p50 \(micro(percentile(anchor, 0.5))) µs  p99 \(micro(percentile(anchor, 0.99))) µs"
)
for request in requests {
    var times: [UInt64] = []
    for i in 0..<samples {
        times.append(try roundTrip("socket.io-request#/#", request.json(String(format: "q%05d", i))))
    }
    times.sort()
    let p50 = percentile(times, 0.5)
    let p99 = percentile(times, 0.99)
    let added50 = Int64(p50) - 2 * Int64(percentile(anchor, 0.5))
    let added99 = Int64(p99) - 2 * Int64(percentile(anchor, 0.99))
    print(
        "  \(request.name.padding(toLength: 22, withPad: " ", startingAt: 0)) request → answer p50 \(micro(p50)) µs  p99 \(micro(p99)) µs;"
            + "  minus two hops: p50 \(String(format: "%.1f", Double(added50) / 1e3)) µs  p99 \(String(format: "%.1f", Double(added99) / 1e3)) µs  target p99 < 1000 µs"
    )
}
progress.note("1/2 end to end: done")

progress.note("2/2 the routing call alone: started")
member.stop(leave: false)
// A member that is not started: its subscriber's thread never routes at the
// same time as this loop (route() is for one thread), and its PUBLISHes wait
// in the outbound buffer.
let offline = makeMember()
let channel = Array("socket.io-request#/#".utf8)
for request in requests {
    let payloads = (0..<1_000).map { Array(request.json(String(format: "r%05d", $0)).utf8) }
    let iterations = 5_000
    let start = monotonicNanoseconds()
    for i in 0..<iterations { offline.route(channel: channel, payload: payloads[i % payloads.count]) }
    let perCall = Double(monotonicNanoseconds() - start) / Double(iterations)
    print(
        "  \(request.name.padding(toLength: 22, withPad: " ", startingAt: 0)) routing call alone: \(String(format: "%.2f", perCall / 1e3)) µs per request (\(iterations) calls)"
    )
}
progress.note("2/2 the routing call alone: done")

// 3. What a large fetchSockets answer costs busd: the node's answer is
// checked (parsed) before it is published; a requester's busd parses each
// server's answer and writes the merged list for its node.
progress.note("3/3 a 10k-socket fetchSockets answer: started")
let oneSocket =
    #"{"id":"AgUEon6wzXtHqqioAAAB","handshake":{"headers":{"host":"127.0.0.1:3000","user-agent":"bench","connection":"Upgrade"},"time":"Sat Nov 21 2026 05:02:59 GMT+0000","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1795237379219,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{"user":"A"}},"rooms":["AgUEon6wzXtHqqioAAAB","roomA"],"data":{"user":"A"}}"#
let answer = Array(("[" + Array(repeating: oneSocket, count: 10_000).joined(separator: ",") + "]").utf8)
let parseStart = monotonicNanoseconds()
let parsed = try JSONParser().parse(answer)
let parseNs = monotonicNanoseconds() - parseStart
var stringifier = JSONStringifier(binary: .nodeJSON)
var written: [UInt8] = []
let writeStart = monotonicNanoseconds()
stringifier.append(parsed, to: &written)
let writeNs = monotonicNanoseconds() - writeStart
print(
    String(
        format: "  fetchSockets answer of 10k sockets (%.1f MB): parse %.1f ms, write %.1f ms (%@)",
        Double(answer.count) / 1e6,
        Double(parseNs) / 1e6,
        Double(writeNs) / 1e6,
        written == answer ? "byte for byte" : "DIFFERS"
    )
)
progress.note("3/3 a 10k-socket fetchSockets answer: done")
