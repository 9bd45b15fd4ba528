@testable import BusCore
import SocketIOCodec
import Testing

/// The rooms an APPLY joined, kept from the drop by the registry for a
/// while (PendingRoomJoins.swift).
@Suite struct PendingRoomJoinsTests {
    let start = ContinuousClock.now

    @Test func aJoinedRoomIsHeldUntilItsTimeRunsOut() {
        let joins = PendingRoomJoins(holdFor: .seconds(10))
        #expect(!joins.holds(namespace: "/", room: "r", now: start))
        joins.joining([.name("r"), .number(7)], namespace: "/", now: start)
        let cases: [(String, String?, Duration, Bool)] = [
            ("/", "r", .seconds(9), true),
            ("/", "7", .seconds(9), true),  // a number's channel text
            ("/", "other", .seconds(1), false),
            ("/chat", "r", .seconds(1), false),
            ("/", nil, .seconds(1), false),  // a join adds no socket to a namespace
            ("/", "r", .seconds(10), false),
        ]
        for (namespace, room, after, held) in cases {
            #expect(joins.holds(namespace: namespace, room: room, now: start + after) == held, "\(namespace) \(room ?? "nil") \(after)")
        }
        #expect(joins.count == 0)
    }

    @Test func aLaterJoinOfTheSameRoomHoldsItLonger() {
        let joins = PendingRoomJoins(holdFor: .seconds(10))
        joins.joining([.name("r")], namespace: "/", now: start)
        joins.joining([.name("s")], namespace: "/", now: start + .seconds(5))
        joins.joining([.name("r")], namespace: "/", now: start + .seconds(8))
        #expect(joins.holds(namespace: "/", room: "r", now: start + .seconds(12)))
        #expect(!joins.holds(namespace: "/", room: "s", now: start + .seconds(15)))
        #expect(joins.holds(namespace: "/", room: "r", now: start + .seconds(17)))
        #expect(!joins.holds(namespace: "/", room: "r", now: start + .seconds(18)))
    }

    /// A node that never misses (nothing asks `holds`) still keeps only
    /// the rooms of the last `holdFor`: each join drops the expired.
    @Test func joinsAloneDoNotGrowIt() {
        let joins = PendingRoomJoins(holdFor: .seconds(10))
        for second in 0..<1000 {
            joins.joining([.name("user-\(second)")], namespace: "/", now: start + .seconds(second))
        }
        #expect(joins.count == 10)
        #expect(joins.holds(namespace: "/", room: "user-999", now: start + .seconds(999)))
        #expect(!joins.holds(namespace: "/", room: "user-989", now: start + .seconds(999)))
    }

    @Test func theEndOfTheSessionForgetsEveryRoom() {
        let joins = PendingRoomJoins()
        joins.joining([.name("r")], namespace: "/", now: start)
        joins.removeAll()
        #expect(!joins.holds(namespace: "/", room: "r", now: start))
        #expect(joins.count == 0)
    }
}
