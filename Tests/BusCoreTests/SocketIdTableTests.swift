import BusCore
import Foundation
import LocalProtocol
import Testing
import TestSupport

@Suite("Socket registry: the id index and owners")
struct SocketIdTableTests {
    /// Many connects and disconnects against a plain dictionary: the index
    /// (open addressing, deletion by backward shift) must find every id
    /// that is there and none that left, long ids and "" included.
    @Test func indexAgreesWithADictionaryUnderChurn() {
        var registry = SocketRegistry()
        var expected: [String: Int64] = [:]
        var generator = SplitMix(seed: 17)
        // 23 bytes fit inline, 24 do not; "" is an id like any other.
        let specials = ["", String(repeating: "x", count: 23), String(repeating: "y", count: 24), "/chat#Jc9xPq2LmZ0wE4rTAAAB"]
        let pool = specials + (0..<3000).map { "s\($0)-AgUEon6wzXtHqqio" }
        for step in 0..<40_000 {
            let id = pool[Int(generator.next() % UInt64(pool.count))]
            if generator.next() % 3 == 0 {
                let change = registry.disconnect(id)
                #expect((change != nil) == (expected.removeValue(forKey: id) != nil))
            } else {
                registry.connect(id, namespace: "/", at: Int64(step))
                expected[id] = Int64(step)
            }
            if step % 4000 == 0 || step == 39_999 {
                #expect(registry.count == expected.count)
                for candidate in pool {
                    #expect(registry.socket(candidate)?.connectedAt == expected[candidate], "\(candidate)")
                }
                var seen: [String: Int64] = [:]
                registry.forEachSocket { id, _, at in seen[id] = at }
                #expect(seen == expected)
            }
        }
        let selected = Set(registry.select(namespace: "/", rooms: [], except: []))
        #expect(selected == Set(expected.keys))
    }

    @Test func socketsBelongToTheConnectionThatRegisteredThemLast() {
        var registry = SocketRegistry()
        registry.connect("a1", namespace: "/", at: 1, owner: 1)
        registry.connect("a2", namespace: "/", at: 1, owner: 1)
        registry.connect("b1", namespace: "/", at: 1, owner: 2)
        registry.connect("none", namespace: "/", at: 1)
        // Registered again by connection 2 (the node reconnected before its old connection ended).
        registry.connect("a2", namespace: "/", at: 2, owner: 2)
        #expect(registry.sockets(ownedBy: 1) == ["a1"])
        #expect(Set(registry.sockets(ownedBy: 2)) == ["a2", "b1"])
        registry.disconnect("b1")
        #expect(registry.sockets(ownedBy: 2) == ["a2"])
        #expect(registry.sockets(ownedBy: 3) == [])
    }
}

/// A small seeded generator: the same churn on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Node link: sockets of an ended connection", .serialized)
struct NodeLinkOwnerTests {
    /// A node that reconnects and registers its sockets again on the new
    /// connection keeps them when the old connection's end is seen later.
    @Test func anEndedConnectionRemovesOnlyTheSocketsItStillOwns() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let old = try TestNodeClient(path: f.path)
        _ = try old.handshake()
        let new = try TestNodeClient(path: f.path)
        _ = try new.handshake()
        old.send(.socketConnect(namespace: "/", socketId: "onlyOldAAAAAAAAAAAAA", connectedAt: 1))
        old.send(.socketConnect(namespace: "/", socketId: "movedAAAAAAAAAAAAAAA", connectedAt: 1))
        old.send(.ping(token: 1))
        #expect(try old.receive() == .pong(token: 1))
        new.send(.socketConnect(namespace: "/", socketId: "movedAAAAAAAAAAAAAAA", connectedAt: 2))
        new.send(.socketConnect(namespace: "/", socketId: "onlyNewAAAAAAAAAAAAA", connectedAt: 2))
        new.send(.ping(token: 2))
        #expect(try new.receive() == .pong(token: 2))
        #expect(f.member.socketCount == 3)

        old.disconnect()
        #expect(eventually { f.member.socket("onlyOldAAAAAAAAAAAAA") == nil && f.link.connectionCount == 1 })
        #expect(f.member.socket("movedAAAAAAAAAAAAAAA")?.connectedAt == 2)
        #expect(f.member.socket("onlyNewAAAAAAAAAAAAA") != nil)

        new.disconnect()
        #expect(eventually { f.member.socketCount == 0 && f.link.connectionCount == 0 })
    }
}
