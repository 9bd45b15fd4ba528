/// What a publisher waiting for confirmations knows: the sockets it expects
/// (socket ids it targeted, found in the registry, and every socket a node
/// reported dispatching to) and how each settled. A value type: the caller
/// feeds it records and the clock, and asks whether the wait is over.
///
/// A room's members are known only from the nodes' `dispatched` records, and
/// nodes report independently, so when rooms were targeted the wait also
/// lets a quiet period pass after the last dispatch before it calls the set
/// complete.
public struct DeliveryWait: Sendable {
    /// In the order they became known.
    public private(set) var expected: [String] = []
    private var expectedSet: Set<String> = []
    public private(set) var outcomes: [String: DeliveryRecord.Confirmation] = [:]
    public private(set) var dispatchingNodes: Set<String> = []
    private var lastDispatch: ContinuousClock.Instant?
    private let hasRoomTargets: Bool
    private let quietPeriod: Duration

    /// `knownSockets`: targets known to be sockets; `hasRoomTargets`: some
    /// target is a room whose members only the nodes know.
    public init(knownSockets: [String], hasRoomTargets: Bool, quietPeriod: Duration = .milliseconds(250)) {
        self.hasRoomTargets = hasRoomTargets
        self.quietPeriod = quietPeriod
        for socket in knownSockets { expect(socket) }
    }

    private mutating func expect(_ socket: String) {
        if expectedSet.insert(socket).inserted { expected.append(socket) }
    }

    /// Takes a record; returns the confirmation when it settled a socket for the first time.
    @discardableResult
    public mutating func take(_ record: DeliveryRecord, at now: ContinuousClock.Instant) -> DeliveryRecord.Confirmation? {
        switch record {
        case .dispatched(let dispatch):
            dispatchingNodes.insert(dispatch.node)
            lastDispatch = now
            for socket in dispatch.sockets { expect(socket) }
            return nil
        case .confirmation(let confirmation):
            guard outcomes[confirmation.socketId] == nil else { return nil }
            expect(confirmation.socketId)
            outcomes[confirmation.socketId] = confirmation
            return confirmation
        }
    }

    /// Every expected socket settled (and, for rooms, the nodes went quiet).
    public func isComplete(at now: ContinuousClock.Instant) -> Bool {
        guard !expected.isEmpty, expected.allSatisfy({ outcomes[$0] != nil }) else { return false }
        guard hasRoomTargets else { return true }
        guard let lastDispatch else { return false }
        return now - lastDispatch >= quietPeriod
    }

    /// Expected sockets with no outcome yet.
    public var unsettled: [String] { expected.filter { outcomes[$0] == nil } }

    /// True when there was something to deliver and every socket acked.
    public var allDelivered: Bool {
        !expected.isEmpty && expected.allSatisfy { outcomes[$0]?.status == .delivered }
    }
}
