/// Which busd of a cluster mails an outage, so an operator gets one email
/// per outage rather than one per sidecar.
///
/// Every busd remembers the node ids it last saw alive in Redis. With role
/// `elected`, a busd sends when its own id is among the first `senders` of
/// the sorted union of those ids and itself. Every busd that saw the same
/// registry makes the same choice, with no talking during the outage (when
/// Redis, the only shared channel, is the thing that is down).
///
/// Limits (docs/alerts.md): an outage seen only by a busd that is not a
/// sender is not mailed (it is logged and shows in readiness); a sender that
/// died shortly before the outage may still be in the others' lists.
public enum SenderChoice {
    public struct Decision: Sendable, Equatable {
        public let sends: Bool
        /// The elected senders (role `elected`), first first.
        public let senders: [String]
        /// One sentence for the log.
        public let reason: String
    }

    public static func decide(role: AlertRole, senders count: Int, node: String, knownNodes: [String]) -> Decision {
        switch role {
        case .always:
            return Decision(sends: true, senders: [node], reason: "--alert-role always")
        case .never:
            return Decision(sends: false, senders: [], reason: "--alert-role never")
        case .elected:
            // Byte order: every busd sorts the same way, whatever its locale.
            let candidates = Set(knownNodes.filter { !$0.isEmpty } + [node])
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let elected = Array(candidates.prefix(max(1, count)))
            let among = "the first \(elected.count) of \(candidates.count) known node(s)"
            if elected.contains(node) {
                return Decision(sends: true, senders: elected, reason: "\(node) is among \(among)")
            }
            return Decision(
                sends: false,
                senders: elected,
                reason: "\(node) is not among \(among); sent by \(elected.joined(separator: ", "))"
            )
        }
    }
}
