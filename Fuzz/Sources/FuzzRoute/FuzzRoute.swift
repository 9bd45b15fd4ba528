// Fuzz target: busd's handling of one message from Redis, a channel + payload
// pair, through ClusterMember.route (the subscriber's entry point), with a
// registry of sockets in rooms of two namespaces. Every command routing
// produces is framed for the node as NodeLinkServer does, and decoded again.
//
// Input: byte 0 picks the channel from `ChannelTable`, or (≥ its count) says
// the channel itself follows: one length byte, then that many bytes. Bit 7
// of byte 0 switches the ack policy from `requested` to `all`. The rest is
// the payload. The input's length modulo 3 picks the node busd has: none, a
// version 1 node (busd picks targets and answers from its registry) or a
// version 2 node (DELIVER_TO_ROOMS, APPLY, QUESTIONs); the length divided by
// 3, modulo 2, whether busd speaks the classic adapter or the sharded one
// (`dynamic`: ClusterAdapter messages, translated for the request machines). A fresh member per
// input keeps runs independent (requests join, leave and disconnect sockets).
//
// What cannot be framed (a room name over 65535 bytes, a packet over 16 MiB)
// must throw, as NodeLinkServer.send then drops and counts it; what is
// framed must decode, each frame within the 16 MiB the connectors accept.

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
    let member = makeMember(ackPolicy: input[0] & 0x80 == 0 ? .requested : .all, sharded: (size / 3) % 2 == 1)
    let nodeVersion = UInt16(size % 3)
    if nodeVersion > 0 { member.nodeSessionStarted(version: nodeVersion) }
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
private func makeMember(ackPolicy: AckPolicy, sharded: Bool) -> ClusterMember {
    // A Unix path nobody listens on: the member is not started anyway.
    var configuration = ClusterMember.Configuration(
        redis: try! RedisConfiguration(url: "unix:///nonexistent/fuzz.sock"),
        nodeId: "fuzz"
    )
    configuration.ackPolicy = ackPolicy
    if sharded { configuration.adapterFlavor = .sharded(.dynamic) }
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

/// What NodeLinkServer.send writes for a command; decoding it must give it
/// back (the frame itself, or the parts of its socket ids when it was split).
private func frameForNode(_ command: NodeCommand) {
    let frames: [[UInt8]]
    do {
        frames = try CommandFraming.encodedFrames(for: command)
    } catch {
        return  // dropped and counted as unframable by busd
    }
    let whole = CommandFraming.frame(for: command)
    var decoder = LocalFrameDecoder()
    var decodedIds: [String] = []
    for encoded in frames {
        decoder.append(encoded)
        do {
            guard let decoded = try decoder.next() else { fatalError("\(whole.name) for the node is cut short") }
            if frames.count == 1, decoded != whole {
                fatalError("\(whole.name) for the node does not decode to itself")
            }
            if case .deliver(_, _, _, let ids, _, _) = decoded { decodedIds += ids }
        } catch {
            // Over 16 MiB the node would close the link: a frame busd must not send.
            fatalError("\(whole.name) for the node does not decode: \(error)")
        }
    }
    if frames.count > 1, case .deliver(_, _, _, let ids, _, _) = whole, ids != decodedIds {
        fatalError("the parts of a split DELIVER do not list its sockets")
    }
}
