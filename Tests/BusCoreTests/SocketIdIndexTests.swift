import Testing

@testable import BusCore

@Suite("Socket registry: the id index's entries")
struct SocketIdIndexTests {
    /// One index entry per socket across the index's growth, removals and
    /// slot reuse (an id indexed twice would still be found, so lookups
    /// alone cannot tell).
    @Test func oneEntryPerSocketThroughGrowthAndChurn() {
        var registry = SocketRegistry()
        for i in 0..<5000 {
            registry.connect("grow-\(i)-AgUEon6wzXtHq", namespace: "/", at: 1)
            if i % 7 == 0 { registry.disconnect("grow-\(i / 2)-AgUEon6wzXtHq") }
            #expect(registry.indexedIdCount == registry.count, "after \(i)")
            if registry.indexedIdCount != registry.count { return }
        }
    }
}
