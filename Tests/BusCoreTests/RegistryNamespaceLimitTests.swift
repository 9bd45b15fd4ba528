import BusCore
import Testing

/// A namespace has a 16-bit index in the registry and the namespaces come
/// from the node's frames: the 65,537th must be refused, not trap.
@Suite("Socket registry: the namespace index limit")
struct RegistryNamespaceLimitTests {
    @Test func theNamespaceAfterTheLastIndexIsRefusedAndAFreedIndexIsGivenAgain() {
        var registry = SocketRegistry()
        for n in 0..<65_536 {
            #expect(registry.connect("s\(n)", namespace: "/n\(n)", at: 1) != nil)
        }
        // Full: a new namespace is refused and the socket keeps its entry.
        #expect(registry.connect("s0", namespace: "/new", at: 2) == nil)
        #expect(registry.socket("s0")?.namespace == "/n0")
        #expect(registry.count == 65_536)
        // A known namespace still takes sockets.
        #expect(registry.connect("extra", namespace: "/n7", at: 3) != nil)
        // Once a namespace has no socket left, its index serves a new one.
        registry.disconnect("s5")
        #expect(registry.connect("fresh", namespace: "/new", at: 4) != nil)
        #expect(registry.socket("fresh")?.namespace == "/new")
        #expect(registry.hasSockets(namespace: "/new"))
        #expect(!registry.hasSockets(namespace: "/n5"))
        #expect(registry.socket("s6")?.namespace == "/n6")
        // Rooms of the reused index belong to the new namespace only.
        registry.join("fresh", rooms: ["lobby"])
        #expect(registry.hasRoom("lobby", namespace: "/new"))
        #expect(!registry.hasRoom("lobby", namespace: "/n5"))
    }
}
