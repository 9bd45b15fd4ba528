// Fuzz target: busd's handling of one message from Redis, a channel + payload
// pair, through ClusterMember.route (the subscriber's entry point), with a
// registry of sockets in rooms of two namespaces. Every command routing
// produces is framed for the node as NodeLinkServer does, and decoded again.
//
// Input: byte 0 picks the channel from `ChannelTable`, or (≥ its count) says
// the channel itself follows: one length byte, then that many bytes. Bit 7
// of byte 0 switches the ack policy from `requested` to `all`. The rest is
// the payload. A fresh member per input keeps runs independent (requests
// join, leave and disconnect sockets).
//
// FUZZ_ROUTE_LONG_STRINGS, FUZZ_ROUTE_OVERSIZED_FRAMES: see KnownTraps.swift.

@_spi(Benchmarks) @testable import BusCore
import LocalProtocol
import Logging
import SocketIOCodec

// Exported too: libFuzzer's runtime refers to the symbol.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoute(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let (channel, payload) = ChannelTable.split(input) else { return 0 }
    let member = makeMember(ackPolicy: input[0] & 0x80 == 0 ? .requested : .all)
    member.route(channel: channel, payload: payload)
    return 0
}

private let logger: Logger = {
    var logger = Logger(label: "fuzz-route")
    logger.logLevel = .critical
    return logger
}()

/// A member that is never started: no Redis connection is made, registry
/// writes wait in its (unsent) outbound queue.
private func makeMember(ackPolicy: AckPolicy) -> ClusterMember {
    // A Unix path nobody listens on: the member is not started anyway.
    var configuration = ClusterMember.Configuration(
        redis: try! RedisConfiguration(url: "unix:///nonexistent/fuzz.sock"),
        nodeId: "fuzz"
    )
    configuration.ackPolicy = ackPolicy
    configuration.namespaces = ["/", "/chat"]
    let member = ClusterMember(configuration: configuration, logger: logger) { command in
        frameForNode(command)
    }
    for (id, namespace, rooms) in Registry.sockets {
        member.socketConnected(id, namespace: namespace, at: 1)
        member.socketJoined(id, rooms: rooms)
    }
    return member
}

/// What NodeConnection writes for a command; decoding it must give it back.
private func frameForNode(_ command: NodeCommand) {
    let frame = NodeLinkServer.frame(for: command)
    guard KnownTraps.mayEncode(frame) else { return }
    let encoded = frame.encoded
    guard KnownTraps.mayCheck(encoded) else { return }
    var decoder = LocalFrameDecoder()
    decoder.append(encoded)
    do {
        guard let decoded = try decoder.next(), decoded == frame else {
            fatalError("\(frame.name) for the node does not decode to itself")
        }
    } catch {
        // Over 16 MiB the node would close the link: a frame busd must not send.
        fatalError("\(frame.name) for the node does not decode: \(error)")
    }
}
