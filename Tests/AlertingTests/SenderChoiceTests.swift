import Alerting
import Testing

/// The one-sender-per-cluster choice as a pure function.
@Suite("SenderChoice: which busd sends")
struct SenderChoiceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let role: AlertRole
        let senders: Int
        let node: String
        let known: [String]
        let sends: Bool
        let elected: [String]
        var testDescription: String { "\(role) n=\(senders) \(node) known=\(known) → \(sends ? "sends" : "quiet")" }
    }

    static let cases: [Case] = [
        Case(role: .elected, senders: 1, node: "web-1", known: ["web-2", "web-3"], sends: true, elected: ["web-1"]),
        Case(role: .elected, senders: 1, node: "web-2", known: ["web-1", "web-3"], sends: false, elected: ["web-1"]),
        Case(
            role: .elected,
            senders: 2,
            node: "web-2",
            known: ["web-3", "web-1"],
            sends: true,
            elected: ["web-1", "web-2"]
        ),
        Case(
            role: .elected,
            senders: 2,
            node: "web-3",
            known: ["web-1", "web-2"],
            sends: false,
            elected: ["web-1", "web-2"]
        ),
        // Alone, or knowing nobody (Redis was down at start): it sends.
        Case(role: .elected, senders: 1, node: "web-2", known: [], sends: true, elected: ["web-2"]),
        // Itself in the list (the usual case) counts once.
        Case(role: .elected, senders: 1, node: "web-2", known: ["web-2", "web-3"], sends: true, elected: ["web-2"]),
        Case(
            role: .elected,
            senders: 2,
            node: "web-3",
            known: ["web-3", "web-3", ""],
            sends: true,
            elected: ["web-3"]
        ),
        // Duplicates and empty ids do not take a seat.
        Case(
            role: .elected,
            senders: 2,
            node: "web-3",
            known: ["", "web-1", "web-1"],
            sends: true,
            elected: ["web-1", "web-3"]
        ),
        // Byte order, as every busd sorts it: "W" (0x57) before "w", "node-10" before "node-9".
        Case(role: .elected, senders: 1, node: "web-0", known: ["Web-1"], sends: false, elected: ["Web-1"]),
        Case(role: .elected, senders: 1, node: "node-9", known: ["node-10"], sends: false, elected: ["node-10"]),
        Case(
            role: .elected,
            senders: 5,
            node: "web-9",
            known: ["web-1", "web-2"],
            sends: true,
            elected: ["web-1", "web-2", "web-9"]
        ),
        Case(role: .always, senders: 1, node: "web-9", known: ["web-1"], sends: true, elected: ["web-9"]),
        Case(role: .never, senders: 1, node: "web-1", known: [], sends: false, elected: []),
    ]

    @Test(arguments: cases)
    func decision(_ c: Case) {
        let decision = SenderChoice.decide(role: c.role, senders: c.senders, node: c.node, knownNodes: c.known)
        #expect(decision.sends == c.sends)
        #expect(decision.senders == c.elected)
        #expect(decision.reason.contains(c.role == .elected ? c.node : "--alert-role \(c.role.rawValue)"))
    }

    /// Nodes that know the same cluster agree: exactly N of them send.
    @Test(arguments: 1...6)
    func exactlyNSendersWhenEveryoneKnowsTheSameNodes(_ n: Int) {
        let cluster = ["web-3", "api-1", "web-1", "api-2", "web-2"]
        let senders = cluster.filter {
            SenderChoice.decide(role: .elected, senders: n, node: $0, knownNodes: cluster).sends
        }
        #expect(senders.count == min(n, cluster.count))
        #expect(Set(senders) == Set(cluster.sorted().prefix(n)))
    }

    @Test func reasonNamesWhoSends() {
        let decision = SenderChoice.decide(
            role: .elected,
            senders: 1,
            node: "web-2",
            knownNodes: ["web-1", "web-2", "web-3"]
        )
        #expect(decision.reason == "web-2 is not among the first 1 of 3 known node(s); sent by web-1")
    }
}
