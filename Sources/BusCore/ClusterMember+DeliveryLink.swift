import LocalProtocol
import SocketIOCodec
import Synchronization

/// The node link a started ``NodeLinkServer`` registers with its member:
/// the router then queues routed broadcasts on it directly (see
/// NodeLinkServer+Deliveries.swift) instead of building a ``NodeCommand``
/// for `onCommand`, which forwards every command to the same link. Other
/// commands still go through `onCommand`, on the same thread, so their
/// order with the deliveries is kept.
extension ClusterMember {
    func attachDeliveryLink(_ link: NodeLinkServer) {
        deliveryLink.withLock { $0 = link }
    }

    /// Only the link attached: a server that failed to start or is stopped
    /// late does not take another's place.
    func detachDeliveryLink(_ link: NodeLinkServer) {
        deliveryLink.withLock { if $0 === link { $0 = nil } }
    }
}

/// The last broadcast's rooms as ``LocalRoom``s: most broadcasts repeat the
/// rooms of the one before, and converting them costs an array each.
struct LocalRoomsCache {
    private var rooms: [Room] = []
    private var except: [Room] = []
    private var localRooms: [LocalRoom] = []
    private var localExcept: [LocalRoom] = []

    mutating func localRooms(_ rooms: [Room], _ except: [Room]) -> ([LocalRoom], [LocalRoom]) {
        if !Self.same(rooms, self.rooms) {
            self.rooms = rooms
            localRooms = rooms.map(LocalRoom.init)
        }
        if !Self.same(except, self.except) {
            self.except = except
            localExcept = except.map(LocalRoom.init)
        }
        return (localRooms, localExcept)
    }

    /// Equal rooms, compared by bits: a NaN room (which `==` calls unequal
    /// to itself) would otherwise be converted every time, harmlessly.
    private static func same(_ a: [Room], _ b: [Room]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (.name(let p), .name(let q)): if p != q { return false }
            case (.number(let p), .number(let q)): if p.bitPattern != q.bitPattern { return false }
            default: return false
            }
        }
        return true
    }
}
