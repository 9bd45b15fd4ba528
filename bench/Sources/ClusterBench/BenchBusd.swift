// cluster-bench's busd (member and node link in this process), waiting,
// and the figures' lines.

import BenchSupport
@_spi(Benchmarks) import BusCore
import Foundation
import Logging

/// busd's member and node link, on `redisURL`.
final class Busd {
    let member: ClusterMember
    let link: NodeLinkServer
    let relay = NodeCommandRelay()
    let linkPath: String

    init(redisURL: String, directory: String, outboundLimit: Int) throws {
        var configuration = ClusterMember.Configuration(redis: try RedisConfiguration(url: redisURL), nodeId: "bench")
        configuration.outboundLimit = outboundLimit
        var logger = Logger(label: "cluster-bench")
        logger.logLevel = .critical
        let relay = self.relay
        member = ClusterMember(configuration: configuration, logger: logger, onBatchEnd: { relay.flush() }) {
            relay.forward($0)
        }
        linkPath = directory + "/busd-\(UInt32.random(in: 0...UInt32.max)).sock"
        link = NodeLinkServer(configuration: .init(path: linkPath), member: member, logger: logger)
        relay.connect(to: link)
        member.start()
        try link.start()
    }

    /// A node of `version` with `sockets`, once busd has them all.
    func connectNode(version: UInt16, sockets: BenchSockets) throws -> BenchNode {
        let node = try BenchNode(path: linkPath)
        node.send([.hello(version: version, node: "bench", pid: UInt32(getpid()))])
        try waitUntil("WELCOME \(version)") { node.count(0x02) == 1 && member.nodeSessionVersion == version }
        node.send(sockets.frames(version: version))
        try waitUntil("\(sockets.count) sockets in the registry") { member.socketCount == sockets.count }
        return node
    }

    func disconnect(_ node: BenchNode) throws {
        node.close()
        try waitUntil("the node's session to end") { member.nodeSessionVersion == 0 }
    }

    /// Answers queued for Redis so far (published, waiting or dropped).
    var queued: Int {
        let outbound = member.outbound
        return outbound.published + outbound.waiting + outbound.dropped
    }

    func stop() {
        link.stop()
        member.stop(leave: false)
    }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    let description: String
}

func waitUntil(_ what: String, seconds: Double = 30, _ condition: () -> Bool) throws {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while !condition() {
        if Date() > deadline { throw WaitTimedOut(description: "timed out waiting for \(what)") }
        usleep(1000)
    }
}

/// "p50 … µs, p99 … µs, max … µs" of nanosecond samples.
func summary(_ samples: [UInt64]) -> (text: String, p99: Double) {
    let sorted = samples.sorted()
    let p50 = Double(percentile(sorted, 0.5)) / 1e3
    let p99 = Double(percentile(sorted, 0.99)) / 1e3
    let max = Double(sorted.last ?? 0) / 1e3
    return (String(format: "p50 %7.1f µs  p99 %7.1f µs  max %8.1f µs", p50, p99, max), p99)
}

func line(_ name: String, _ text: String, _ extra: String) {
    let padded = name.count < 62 ? name + String(repeating: " ", count: 62 - name.count) : name
    print("  \(padded) \(text)  \(extra)")
}
