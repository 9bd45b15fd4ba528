@testable import BusCore
import LocalProtocol
import Testing

@Suite("Waiting for delivery confirmations")
struct DeliveryWaitTests {
    static let t0 = ContinuousClock.now

    static func dispatch(_ node: String, _ sockets: [String]) -> DeliveryRecord {
        .dispatched(.init(messageId: "m", node: node, namespace: "/", ackId: 1, sockets: sockets, timeoutMilliseconds: 100, time: 0))
    }

    static func confirm(_ socket: String, _ status: AckStatus) -> DeliveryRecord {
        let outcome = AckTable.Outcome(
            ackId: 1, messageId: "m", namespace: "/", socketId: socket, status: status, arguments: status == .delivered ? [] : nil, dispatchedAt: 0, settledAt: 5)
        return .confirmation(.init(outcome: outcome, node: "n"))
    }

    @Test func aKnownSocketIsCompleteAsSoonAsItSettles() {
        var wait = DeliveryWait(knownSockets: ["s1"], hasRoomTargets: false)
        #expect(!wait.isComplete(at: Self.t0))
        wait.take(Self.dispatch("a", ["s1"]), at: Self.t0)
        #expect(!wait.isComplete(at: Self.t0))
        #expect(wait.take(Self.confirm("s1", .delivered), at: Self.t0)?.status == .delivered)
        #expect(wait.isComplete(at: Self.t0) && wait.allDelivered)
        // A second outcome for the same socket is not news.
        #expect(wait.take(Self.confirm("s1", .timeout), at: Self.t0) == nil)
        #expect(wait.allDelivered)
    }

    @Test func roomsWaitForEveryDispatchingNodeAndAQuietPeriod() {
        var wait = DeliveryWait(knownSockets: [], hasRoomTargets: true, quietPeriod: .milliseconds(100))
        wait.take(Self.dispatch("a", ["s1", "s2"]), at: Self.t0)
        wait.take(Self.confirm("s1", .delivered), at: Self.t0)
        wait.take(Self.confirm("s2", .delivered), at: Self.t0)
        #expect(!wait.isComplete(at: Self.t0 + .milliseconds(50)))
        // A second node reports within the quiet period: its socket is owed too.
        wait.take(Self.dispatch("b", ["s3"]), at: Self.t0 + .milliseconds(60))
        #expect(!wait.isComplete(at: Self.t0 + .milliseconds(200)))
        wait.take(Self.confirm("s3", .disconnected), at: Self.t0 + .milliseconds(70))
        #expect(wait.isComplete(at: Self.t0 + .milliseconds(160)))
        #expect(!wait.allDelivered)
        #expect(wait.dispatchingNodes == ["a", "b"])
        #expect(wait.unsettled.isEmpty)
    }

    @Test func nothingDispatchedIsNeverCompleteNorDelivered() {
        let wait = DeliveryWait(knownSockets: [], hasRoomTargets: true)
        #expect(!wait.isComplete(at: Self.t0 + .seconds(5)))
        #expect(!wait.allDelivered)
    }

    @Test func unsettledListsWhatIsStillOwedInOrder() {
        var wait = DeliveryWait(knownSockets: ["s1", "s2"], hasRoomTargets: false)
        wait.take(Self.confirm("s2", .timeout), at: Self.t0)
        #expect(wait.unsettled == ["s1"])
    }
}
