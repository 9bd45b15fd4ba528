@testable import BusCore
import Hiredis
import Testing

/// The pure parts of Redis Cluster routing: key slots, the CLUSTER SLOTS
/// table (hostile replies included), redirections, seeds in a URL, and the
/// registry's key names on a cluster. Values from `CLUSTER KEYSLOT` of Redis 7.0.15.
@Suite("Redis Cluster routing (pure)")
struct ClusterRoutingTests {
    @Test(arguments: [
        ("123456789", 12739), ("foo", 12182), ("bar", 5061), ("somekey", 11058), ("foo{hash_tag}", 2515),
        ("{user1000}.following", 3443), ("{user1000}.followers", 3443), ("user1000", 3443),
        // An empty tag hashes the whole key; the first '{' and the first '}' after it count.
        ("foo{}{bar}", 8363), ("{}", 15257), ("foo{{bar}}zap", 4015), ("{bar", 4015), ("foo{bar}{zap}", 5061),
        ("{socketbus}:owner", 7067), ("socketbus", 7067), ("", 0), ("a{b}c", 3300), ("{{}}:owner", 4092), ("{", 4092),
    ])
    func keySlotMatchesRedis(key: String, slot: Int) {
        #expect(ClusterKeySlot.slot(of: key) == slot)
    }

    @Test func crc16IsXmodem() {
        #expect(ClusterKeySlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
    }

    @Test func registryKeysShareOneSlotOnAClusterAndStayPlainOtherwise() {
        let plain = RegistryKeys(prefix: "socketbus")
        #expect(plain.owner == "socketbus:owner")
        let tagged = plain.inCluster
        #expect(tagged.owner == "{socketbus}:owner")
        let slots = Set(
            [tagged.owner, tagged.nodes, tagged.node("web-1"), tagged.sockets(of: "web-2")].map(
                ClusterKeySlot.slot(of:)
            )
        )
        #expect(slots.count == 1)
        // Delivery records keep their names (and channels), spread over the slots.
        #expect(tagged.acks("m1") == "socketbus:acks:m1")
        #expect(tagged.acksPattern == plain.acksPattern)
        // A prefix with its own tag is used as it is; an empty tag is no tag.
        #expect(RegistryKeys(prefix: "app{reg}").inCluster.owner == "app{reg}:owner")
        #expect(RegistryKeys(prefix: "app{}").inCluster.owner == "{app{}}:owner")
        #expect(RegistryKeys(prefix: "app{}").inCluster.owner != RegistryKeys(prefix: "app{}").owner)
    }

    @Test func seedsAreParsedFromACommaSeparatedURL() throws {
        let configuration = try RedisConfiguration(url: "redis://user:p%2Cw@h1:7000,h2:7001,[::1]:7002,h4/0")
        #expect(configuration.endpoint == .tcp(host: "h1", port: 7000))
        #expect(
            configuration.seeds == [
                .tcp(host: "h2", port: 7001), .tcp(host: "::1", port: 7002), .tcp(host: "h4", port: 6379),
            ]
        )
        #expect(configuration.username == "user" && configuration.password == "p,w")
        #expect(configuration.seedEndpoints.count == 4)
        #expect(try RedisConfiguration(url: "redis://h1:7000").seeds.isEmpty)
        // Only redis:// and rediss:// lists are cluster seeds (a sentinel URL's list is not).
        #expect(try RedisConfiguration.seeded(url: "redis+sentinel://s1,s2/mymaster") == nil)
        #expect(try RedisConfiguration.seeded(url: "unix:///tmp/a,b") == nil)
        #expect(throws: RedisConfiguration.ParseError.self) { try RedisConfiguration(url: "redis://h1:7000,,h2") }
        #expect(throws: RedisConfiguration.ParseError.self) { try RedisConfiguration(url: "redis://h1:7000,h2:99999") }
        #expect(throws: RedisConfiguration.ParseError.self) { try RedisConfiguration(url: "redis://h1,") }
    }

    @Test func clusterSlotsTableRoutesEachSlotToItsMaster() throws {
        let reply = RedisReply.array([
            .array([.integer(0), .integer(5460), node("10.0.0.1", 7000), node("10.0.0.4", 7003)]),
            .array([.integer(5461), .integer(10922), node("", 7001)]),
            .array([.integer(10923), .integer(16383), node("?", 7002), node("10.0.0.6", 7005)]),
        ])
        let topology = try ClusterTopology(slotsReply: reply, answeringHost: "10.0.0.9")
        #expect(topology.master(ofSlot: 0) == .tcp(host: "10.0.0.1", port: 7000))
        #expect(topology.master(ofSlot: 5461) == .tcp(host: "10.0.0.9", port: 7001))
        #expect(topology.master(ofSlot: 16383) == .tcp(host: "10.0.0.9", port: 7002))
        #expect(topology.replicas.count == 2 && topology.skippedEntries == 0 && topology.unservedSlots == 0)
        #expect(topology.master(ofSlot: 16384) == nil && topology.master(ofSlot: -1) == nil)
    }

    /// Nothing the cluster sends traps: bad slots, ports and shapes are skipped and counted.
    @Test func hostileClusterSlotsRepliesAreSkippedNotTrapped() throws {
        let reply = RedisReply.array([
            .array([.integer(-5), .integer(10), node("a", 1)]),
            .array([.integer(10), .integer(5), node("a", 1)]),
            .array([.integer(0), .integer(16384), node("a", 1)]),
            .array([.integer(0), .integer(Int64.max), node("a", 1)]),
            .array([.integer(0), .integer(100), node("a", 0)]),
            .array([.integer(0), .integer(100), node("a", 70000)]),
            .array([.integer(0), .integer(100), node("a", Int64.min)]),
            .array([.integer(0), .integer(100), .array([.integer(1), .integer(2)])]),
            .array([.integer(0), .integer(100), .bulk([])]),
            .array([.integer(0)]),
            .integer(3),
            .array([.integer(200), .integer(300), node("ok", 6379), node("bad", -1)]),
        ])
        let topology = try ClusterTopology(slotsReply: reply, answeringHost: "h")
        #expect(topology.skippedEntries == 12)
        #expect(topology.masters == [.tcp(host: "ok", port: 6379)])
        #expect(topology.master(ofSlot: 250) == .tcp(host: "ok", port: 6379))
        #expect(topology.master(ofSlot: 50) == nil)
        #expect(throws: RedisError.self) { try ClusterTopology(slotsReply: .status("OK"), answeringHost: "h") }
        #expect(throws: RedisError.self) { try ClusterTopology(slotsReply: .array([]), answeringHost: "h") }
    }

    @Test func redirectionsAreReadAndAnythingElseStaysAnError() {
        #expect(
            ClusterRedirect(RedisError(.reply, "MOVED 3999 127.0.0.1:6381"))
                == .moved(slot: 3999, to: .tcp(host: "127.0.0.1", port: 6381))
        )
        #expect(
            ClusterRedirect(RedisError(.reply, "ASK 12 ::1:7000")) == .ask(slot: 12, to: .tcp(host: "::1", port: 7000))
        )
        #expect(
            ClusterRedirect(RedisError(.reply, "MOVED 12 :7001")) == .moved(slot: 12, to: .tcp(host: "", port: 7001))
        )
        #expect(
            ClusterRedirect(RedisError(.reply, "TRYAGAIN Multiple keys request during rehashing of slot"))
                == .retryLater
        )
        #expect(ClusterRedirect(RedisError(.reply, "CLUSTERDOWN The cluster is down")) == .retryLater)
        for text in [
            "MOVED 16384 h:1", "MOVED -1 h:1", "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h", "MOVED x h:1",
            "ASK 1", "ERR unknown", "MOVEDX 1 h:1",
        ] {
            #expect(ClusterRedirect(RedisError(.reply, text)) == nil, "\(text)")
        }
        #expect(ClusterRedirect(RedisError(.io, "MOVED 1 h:1")) == nil)
    }

    @Test func commandKeysAreFoundWhereEachCommandHasThem() {
        func key(_ words: [String]) -> String? {
            ClusterCommandKey.key(of: words.map { Array($0.utf8) }).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(key(["HSET", "k", "f", "v"]) == "k")
        #expect(key(["EVAL", "script", "1", "k", "a"]) == "k")
        #expect(key(["EVAL", "script", "0", "a"]) == nil)
        #expect(key(["EVAL", "script", "x", "a"]) == nil)
        #expect(key(["publish", "channel", "m"]) == nil)
        #expect(key(["PING"]) == nil)
        #expect(key([]) == nil)
    }

    private func node(_ host: String, _ port: Int64) -> RedisReply {
        .array([.bulk(Array(host.utf8)), .integer(port), .bulk(Array("id".utf8))])
    }
}
