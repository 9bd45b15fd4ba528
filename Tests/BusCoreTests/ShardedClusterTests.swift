import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Synchronization
import Testing
import TestSupport

/// busd in a sharded-adapter cluster on a real Redis Cluster (three masters,
/// three replicas, one cluster for the suite): its shard channels on the
/// masters of their slots, stock-format broadcasts and requests both ways
/// across masters, a slot moved away and a master killed under load.
///
/// The stock servers are stand-ins: raw SSUBSCRIBE connections on the
/// owning masters and SPUBLISH of ClusterAdapter messages built with the
/// codec (the bytes a stock `createShardedAdapter` node sends).
@Suite("Sharded adapter on a Redis Cluster", .serialized, .shardedCluster)
struct ShardedClusterTests {
    @TaskLocal static var cluster: RedisClusterTestServer?

    var cluster: RedisClusterTestServer {
        get throws { try #require(Self.cluster) }
    }

    static let channels = ShardedChannels(mode: .dynamic)

    /// One room name whose channel lives on each master.
    static func roomsOnEveryMaster(_ cluster: RedisClusterTestServer, tag: String) throws -> [Int: String] {
        var rooms: [Int: String] = [:]
        let masters = try cluster.masterPorts(askingNode: cluster.livePorts[0])
        for index in 0..<200 where rooms.count < masters.count {
            let room = "\(tag)-\(index)"
            if let port = try ClusterShardPeer.owner(of: channels.room("/", .name(room)), in: cluster),
                rooms[port] == nil
            {
                rooms[port] = room
            }
        }
        return rooms
    }

    @Test(arguments: ShardedChannels.Mode.allCases)
    func shardChannelsLiveOnTheirSlotsMastersAndBroadcastsArrive(mode: ShardedChannels.Mode) throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let rooms = try Self.roomsOnEveryMaster(cluster, tag: "r-\(mode.rawValue)")
        #expect(rooms.count == 3)
        let busd = try ShardedClusterBusd(
            cluster: cluster,
            seed: cluster.livePorts[4],
            mode: mode,
            rooms: Array(rooms.values)
        )
        defer { busd.stop() }
        let channels = ShardedChannels(mode: mode)
        let roomChannels = mode == .static ? 0 : rooms.count
        let privateChannel = mode == .dynamicPrivate ? 1 : 0
        #expect(
            eventually(timeout: .seconds(5)) {
                busd.member.subscribedShardChannels.count == 2 + roomChannels + privateChannel
            }
        )
        let peer = try ClusterShardPeer(cluster)
        defer { peer.close() }
        // Each channel is subscribed on the master that owns its slot (a
        // wrong node would have answered MOVED), once.
        var expected = [channels.main("/"): 1, channels.responses("/", uid: busd.member.uid): 1]
        for room in rooms.values { expected[channels.room("/", .name(room))] = mode == .static ? 0 : 1 }
        expected[channels.room("/", .name(ShardedClusterBusd.sid))] = privateChannel
        for (channel, count) in expected {
            #expect(try peer.countOnOwner(channel) == count, "\(channel) in \(mode)")
        }
        // A stock node's io.to(room).emit on each master: delivered.
        for room in rooms.values.sorted() {
            let (_, bytes, message) = try ClusterShardPeer.broadcast([.string("hello"), .string(room)], rooms: [room])
            #expect(try peer.publish(channels.channel(for: message, namespace: "/"), bytes) == 1)
            guard case .deliverToRooms(_, _, "/", [.name(room)], _, let packet, _)? = try busd.nextFrame() else {
                Issue.record("DELIVER_TO_ROOMS for \(room) expected (\(mode))")
                continue
            }
            #expect(String(decoding: packet, as: UTF8.self).hasSuffix(#"["hello","\#(room)"]"#))
        }
    }

    @Test func requestsCrossMastersBothWays() throws {
        let cluster = try cluster
        #expect(cluster.waitUntilHealthy())
        let busd = try ShardedClusterBusd(cluster: cluster, seed: cluster.livePorts[0], mode: .dynamic, rooms: ["news"])
        defer { busd.stop() }
        #expect(eventually(timeout: .seconds(5)) { busd.member.subscribedShardChannels.count == 3 })
        let stockUid = "9ffc6a0edde9fe4b"
        // A stock server: the main channel and its own response channel, each on its slot's master.
        let stock = try ClusterShardPeer(
            cluster,
            channels: [Self.channels.main("/"), Self.channels.responses("/", uid: stockUid)]
        )
        defer { stock.close() }
        let owners = try [
            Self.channels.main("/"), Self.channels.responses("/", uid: stockUid),
            Self.channels.responses("/", uid: busd.member.uid),
        ]
        .compactMap { try ClusterShardPeer.owner(of: $0, in: cluster) }
        print("sharded cluster: main, stock response and busd response channels on masters \(owners)")

        // Stock → busd: FETCH_SOCKETS, answered by the node, back on the stock server's channel.
        let fetch = ShardedMessage(
            .fetchSockets(options: .init(rooms: [.name("news")]), requestId: "a56403a69b12314c"),
            uid: stockUid,
            namespace: "/"
        )
        try stock.publish(Self.channels.main("/"), try fetch.encode())
        guard case .question(let id, 1, "/", _)? = try busd.nextFrame() else {
            Issue.record("QUESTION expected")
            return
        }
        busd.node.send(
            .answer(
                request: id,
                status: 0,
                body: Array(#"[{"id":"\#(ShardedClusterBusd.sid)","rooms":["news"]}]"#.utf8)
            )
        )
        var response: ShardedMessage?
        while response == nil, let (channel, message) = try stock.next() {
            if channel == Self.channels.responses("/", uid: stockUid) { response = message }
        }
        guard case .fetchSocketsResponse("a56403a69b12314c", let sockets)? = response?.body else {
            Issue.record("no FETCH_SOCKETS_RESPONSE: \(String(describing: response))")
            return
        }
        #expect(sockets.count == 1 && response?.uid == busd.member.uid)

        // busd → stock: servers counted over the masters (busd and the stock server), then a fetch.
        busd.node.send(.clusterRequest(request: 7, kind: 1, namespace: "/", timeoutMilliseconds: 2000, body: []))
        guard case .clusterReply(7, 0, let count)? = try busd.nextFrame() else {
            Issue.record("CLUSTER_REPLY expected")
            return
        }
        #expect(String(decoding: count, as: UTF8.self) == #"{"count":2}"#)
        busd.node.send(
            .clusterRequest(
                request: 8,
                kind: 2,
                namespace: "/",
                timeoutMilliseconds: 3000,
                body: Array(#"{"rooms":["news"],"except":[]}"#.utf8)
            )
        )
        var requestId: String?
        while requestId == nil, let (_, message) = try stock.next() {
            if case .fetchSockets(_, let id) = message.body, message.uid == busd.member.uid { requestId = id }
        }
        let answer = ShardedMessage(
            .fetchSocketsResponse(
                requestId: try #require(requestId),
                sockets: [.object(JSObject([("id", .string("Z")), ("rooms", .array([.string("news")]))]))]
            ),
            uid: stockUid,
            namespace: "/"
        )
        #expect(try stock.publish(Self.channels.responses("/", uid: busd.member.uid), try answer.encode()) == 1)
        guard case .clusterReply(8, 0, let body)? = try busd.nextFrame() else {
            Issue.record("CLUSTER_REPLY expected")
            return
        }
        #expect(String(decoding: body, as: UTF8.self).contains(#""id":"Z""#))
        // The node's broadcast to a room: SPUBLISHed on the room channel, whichever master owns it.
        let watcher = try ClusterShardPeer(cluster, channels: [Self.channels.room("/", .name("news"))])
        defer { watcher.close() }
        busd.node.send(
            .roomsBroadcast(
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: [.name("news")],
                except: [],
                packet: Array(#"2["n"]"#.utf8),
                attachments: []
            )
        )
        guard let (channel, published) = try watcher.next() else {
            Issue.record("the node's broadcast was not published on the room channel")
            return
        }
        #expect(channel == Self.channels.room("/", .name("news")) && published.uid == busd.member.uid)
    }
}
