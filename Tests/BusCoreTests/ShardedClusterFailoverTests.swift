import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

extension ShardedClusterTests {
    /// A slot moved to another master: Redis ends busd's subscription there
    /// (a `sunsubscribe` push) and busd subscribes on the new owner.
    @Test func aSlotMovedAwayIsSubscribedAgainWhereItWent() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let registrySlot = ClusterKeySlot.slot(of: "{socketbus}")
        let room = try #require(
            (0..<200).map { "moving-\($0)" }.first {
                ClusterKeySlot.slot(of: Self.channels.room("/", .name($0))) != registrySlot
            }
        )
        let channel = Self.channels.room("/", .name(room))
        let slot = ClusterKeySlot.slot(of: channel)
        let busd = try ShardedClusterBusd(cluster: cluster, seed: cluster.livePorts[0], mode: .dynamic, rooms: [room])
        defer { busd.stop() }
        let peer = try ClusterShardPeer(cluster)
        defer { peer.close() }
        #expect(eventually(timeout: .seconds(5)) { (try? peer.countOnOwner(channel)) == 1 })
        let masters = try cluster.masterPorts(askingNode: cluster.livePorts[0])
        let source = try #require(try ClusterShardPeer.owner(of: channel, in: cluster))
        let target = try #require(masters.first { $0 != source })
        let targetId = try cluster.nodeId(target)
        let endedBefore = ClusterStatistics.shared.shardResubscribes["ended", default: 0]
        let moved = ContinuousClock.now
        try cluster.cli(target, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        try cluster.cli(source, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        for port in masters where port != source && port != target {
            try cluster.cli(port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        }
        let on = { (port: Int) -> Int? in
            let connection = try? RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port))
            defer { connection?.close() }
            return try? connection?.shardSubscriberCountForTests(channel)
        }
        #expect(eventually(timeout: .seconds(5)) { on(target) == 1 }, "busd did not subscribe on the new owner")
        print(
            "sharded cluster: slot \(slot) moved \(source) → \(target); busd subscribed there \((ContinuousClock.now - moved).milliseconds) ms later"
        )
        #expect(on(source) == 0)
        // Redis ended it (sunsubscribe push); counted for /metrics.
        #expect(ClusterStatistics.shared.shardResubscribes["ended", default: 0] > endedBefore)
        let (_, bytes, _) = try ClusterShardPeer.broadcast([.string("after-move")], rooms: [room])
        #expect(eventually(timeout: .seconds(3)) { (try? peer.publish(channel, bytes)) == 1 })
        guard case .deliverToRooms(_, _, "/", [.name(room)], _, _, _)? = try busd.nextFrame() else {
            Issue.record("DELIVER_TO_ROOMS after the move expected")
            return
        }
        #expect(cluster.waitUntilHealthy())
    }

    /// A slot moved while busd subscribed nothing in it (so Redis told it
    /// nothing and its slot table is old): the SSUBSCRIBE of a room joined
    /// after goes to the old owner, which answers MOVED; busd reads the table
    /// again and subscribes on the new owner.
    @Test func aMovedReplyToSsubscribeIsFollowed() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let registrySlot = ClusterKeySlot.slot(of: "{socketbus}")
        let mainSlots = [Self.channels.main("/")].map(ClusterKeySlot.slot(of:))
        let room = try #require(
            (0..<200).map { "redirected-\($0)" }.first {
                let slot = ClusterKeySlot.slot(of: Self.channels.room("/", .name($0)))
                return slot != registrySlot && !mainSlots.contains(slot)
            }
        )
        let channel = Self.channels.room("/", .name(room))
        let slot = ClusterKeySlot.slot(of: channel)
        let busd = try ShardedClusterBusd(cluster: cluster, seed: cluster.livePorts[0], mode: .dynamic, rooms: [])
        defer { busd.stop() }
        #expect(eventually(timeout: .seconds(5)) { busd.member.subscribedShardChannels.count == 2 })
        let peer = try ClusterShardPeer(cluster)
        defer { peer.close() }
        let masters = try cluster.masterPorts(askingNode: cluster.livePorts[0])
        let source = try #require(try ClusterShardPeer.owner(of: channel, in: cluster))
        let target = try #require(masters.first { $0 != source })
        let targetId = try cluster.nodeId(target)
        let sourceId = try cluster.nodeId(source)
        // Redis's own procedure: with the target importing, its SETSLOT NODE
        // takes a new config epoch, so its claim wins on every node.
        try cluster.cli(target, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceId])
        try cluster.cli(source, ["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetId])
        try cluster.cli(target, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        try cluster.cli(source, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        for port in masters where port != source && port != target {
            try cluster.cli(port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetId])
        }
        // Every node, replicas included, names the new owner before the join
        // (else the cluster itself sends MOVED back and forth). busd's own
        // table is not read meanwhile: its SSUBSCRIBE still goes to the old owner.
        #expect(
            eventually(timeout: .seconds(10)) {
                cluster.livePorts.allSatisfy { (try? cluster.masterPort(ofSlot: slot, askingNode: $0)) == target }
            }
        )
        let movedBefore = ClusterStatistics.shared.shardResubscribes["moved", default: 0]
        busd.node.send(.roomsJoin(namespace: "/", socketId: ShardedClusterBusd.sid, rooms: [.name(room)]))
        #expect(eventually(timeout: .seconds(5)) { busd.member.subscribedShardChannels.contains(channel) })
        #expect(ClusterStatistics.shared.shardResubscribes["moved", default: 0] > movedBefore)
        #expect(try peer.countOnOwner(channel) == 1 && ClusterShardPeer.owner(of: channel, in: cluster) == target)
        let (_, bytes, _) = try ClusterShardPeer.broadcast([.string("redirected")], rooms: [room])
        #expect(try peer.publish(channel, bytes) == 1)
        guard case .deliverToRooms(_, _, "/", [.name(room)], _, _, _)? = try busd.nextFrame() else {
            Issue.record("DELIVER_TO_ROOMS after the redirection expected")
            return
        }
        #expect(cluster.waitUntilHealthy())
    }

    /// The master holding busd's registry and the load room's channel is
    /// SIGKILLed while a stock-format publisher SPUBLISHes numbered broadcasts.
    ///
    /// Counted: each SPUBLISH that Redis accepted, with the number of
    /// subscribers it handed the message to (busd is the only one). Must
    /// arrive: what was accepted more than 250 ms before the kill (not in
    /// flight in the victim's buffers), and whatever the promoted master
    /// said it handed to a subscriber. What Redis accepted with no subscriber
    /// (before busd subscribed again) is what Redis drops.
    @Test func aMasterKilledUnderLoadIsSurvived() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let registrySlot = ClusterKeySlot.slot(of: "{socketbus}")
        let victim = try #require(try cluster.masterPort(ofSlot: registrySlot, askingNode: cluster.livePorts[0]))
        var room = ""
        for index in 0..<400 {
            let candidate = "load-\(index)"
            if try ClusterShardPeer.owner(of: Self.channels.room("/", .name(candidate)), in: cluster) == victim {
                room = candidate
                break
            }
        }
        #expect(!room.isEmpty)
        let channel = Self.channels.room("/", .name(room))
        let seed = try #require(cluster.livePorts.first { $0 != victim })
        let busd = try ShardedClusterBusd(cluster: cluster, seed: seed, mode: .dynamic, rooms: [room])
        defer { busd.stop() }
        let sockets = [ShardedClusterBusd.sid] + (0..<30).map { "failover-\($0)" }
        for socket in sockets.dropFirst() {
            busd.node.send(.socketConnect(namespace: "/", socketId: socket, connectedAt: 1))
        }
        let check = try ClusterShardPeer(cluster)
        defer { check.close() }
        let registry = { () -> Set<String> in
            guard
                let client = try? RedisClient.connect(
                    try RedisConfiguration(url: cluster.url(seed)),
                    timeout: .seconds(1)
                )
            else {
                return []
            }
            defer { client.close() }
            let owners = (try? client.command(["HGETALL", "{socketbus}:owner"]))?.array ?? []
            return Set(stride(from: 0, to: owners.count, by: 2).compactMap { owners[$0].string })
        }
        #expect(eventually(timeout: .seconds(10)) { registry() == Set(sockets) })
        #expect(eventually(timeout: .seconds(5)) { (try? check.countOnOwner(channel)) == 1 })

        let load = ShardLoad(cluster: cluster, seed: seed, channel: channel, room: room)
        let publisher = Thread { load.publish() }
        let receiver = Thread { load.receive(from: busd) }
        receiver.start()
        publisher.start()
        Thread.sleep(forTimeInterval: 1.5)
        let killed = ContinuousClock.now
        let lostBefore = ClusterStatistics.shared.shardResubscribes["link_lost", default: 0]
        cluster.kill(port: victim)
        let resubscribed = eventually(timeout: .seconds(20)) {
            (try? ClusterShardPeer.owner(of: channel, in: cluster)) != victim && (try? check.countOnOwner(channel)) == 1
        }
        let resubscribedAt = ContinuousClock.now
        let registryBack = eventually(timeout: .seconds(20)) { registry() == Set(sockets) }
        let registryAt = ContinuousClock.now
        Thread.sleep(forTimeInterval: 1.5)
        load.stop()
        Thread.sleep(forTimeInterval: 1.0)
        load.stopReceiving()
        while publisher.isExecuting || receiver.isExecuting { Thread.sleep(forTimeInterval: 0.05) }

        let outcome = load.outcome()
        let lost = outcome.published.filter { !outcome.received.contains($0.seq) }
        let mustArrive = lost.filter { $0.at < killed - .milliseconds(250) || ($0.at > killed && $0.receivers >= 1) }
        let firstAfter = outcome.published.first { $0.at > killed && outcome.received.contains($0.seq) }
        print(
            "sharded cluster fail-over: kill → busd subscribed on the promoted master \((resubscribedAt - killed).milliseconds) ms, "
                + "first broadcast through again published \(firstAfter.map { "\(($0.at - killed).milliseconds)" } ?? "never") ms after the kill, "
                + "kill → registry whole on the cluster \((registryAt - killed).milliseconds) ms; published \(outcome.published.count) "
                + "(\(outcome.published.filter { $0.receivers == 0 }.count) with no subscriber), received \(outcome.received.count), "
                + "lost \(lost.count), lost that Redis had handed to busd \(mustArrive.count), publish errors \(outcome.failures)"
        )
        #expect(resubscribed, "busd did not subscribe on the promoted master")
        #expect(registryBack, "the registry is not whole after the fail-over")
        #expect(outcome.published.count > 500)
        #expect(firstAfter != nil, "nothing published after the kill arrived")
        #expect(mustArrive.isEmpty, "lost: \(mustArrive.prefix(10).map(\.seq))")
        #expect(busd.member.subscribedShardChannels.contains(channel))
        #expect(ClusterStatistics.shared.shardResubscribes["link_lost", default: 0] > lostBefore)
        #expect(cluster.waitUntilHealthy())
    }
}

/// Numbered broadcasts SPUBLISHed to one room through a cluster client,
/// and what busd's node received of them.
final class ShardLoad: @unchecked Sendable {
    // @unchecked: the counters are behind `state`; the rest is immutable.
    struct Published {
        var seq: Int
        var at: ContinuousClock.Instant
        var receivers: Int
    }

    let cluster: RedisClusterTestServer
    let seed: Int
    let channel: String
    let room: String
    private let state = Mutex<(published: [Published], received: Set<Int>, failures: Int)>(([], [], 0))
    private let running = Atomic<Bool>(true)
    private let receiving = Atomic<Bool>(true)

    init(cluster: RedisClusterTestServer, seed: Int, channel: String, room: String) {
        self.cluster = cluster
        self.seed = seed
        self.channel = channel
        self.room = room
    }

    func publish() {
        var client: RedisClient?
        var seq = 0
        while running.load(ordering: .relaxed) {
            seq += 1
            do {
                if client == nil {
                    client = try RedisClient.connect(
                        try RedisConfiguration(url: cluster.url(seed)),
                        timeout: .seconds(1)
                    )
                }
                let (_, bytes, _) = try ClusterShardPeer.broadcast(
                    [.string("tick"), .number(Double(seq))],
                    rooms: [room]
                )
                let reply = try client?.command([Array("SPUBLISH".utf8), Array(channel.utf8), bytes])
                let receivers = Int(reply?.integer ?? 0)
                state.withLock { $0.published.append(Published(seq: seq, at: .now, receivers: receivers)) }
            } catch {
                state.withLock { $0.failures += 1 }
                client?.close()
                client = nil
                Thread.sleep(forTimeInterval: 0.05)
            }
            Thread.sleep(forTimeInterval: 0.0005)
        }
        client?.close()
    }

    func receive(from busd: ShardedClusterBusd) {
        while receiving.load(ordering: .relaxed) {
            guard let frame = try? busd.nextFrame(timeout: .milliseconds(200)) else { continue }
            if case .deliverToRooms(_, _, _, _, _, let packet, _) = frame {
                let text = String(decoding: packet, as: UTF8.self)
                if let start = text.range(of: #"["tick","#),
                    let seq = Int(text[start.upperBound...].prefix { $0.isNumber })
                {
                    state.withLock { _ = $0.received.insert(seq) }
                }
            }
        }
    }

    func stop() { running.store(false, ordering: .relaxed) }
    func stopReceiving() { receiving.store(false, ordering: .relaxed) }

    func outcome() -> (published: [Published], received: Set<Int>, failures: Int) {
        state.withLock { ($0.published, $0.received, $0.failures) }
    }
}
