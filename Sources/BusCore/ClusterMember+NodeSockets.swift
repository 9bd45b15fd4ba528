import SocketIOCodec

/// The node's sockets in the registry: connected, gone, joining and leaving rooms.
extension ClusterMember {
    /// `owner`: the node connection that registered it (0: none), whose end removes it.
    /// False (nothing changed) when the registry has no room for another
    /// namespace: 65,536 namespaces with sockets at once.
    @discardableResult
    public func socketConnected(
        _ id: String,
        namespace: String,
        at connectedAt: Int64 = unixMilliseconds(),
        owner: UInt32 = 0
    ) -> Bool {
        let (registered, isNewNamespace) = registry.withLock { registry in
            let known = registry.hasIndex(namespace: namespace)
            return (registry.connect(id, namespace: namespace, at: connectedAt, owner: owner), !known)
        }
        guard let change = registered else { return false }
        if isNewNamespace { subscribe(namespaces: [namespace]) }
        // A node that connects a socket serves its namespace, NAMESPACE or not.
        servedNamespaces.insert(namespace)
        mirror.enqueue(change)
        shardedRoomsTouched(namespace: namespace, rooms: [.name(id)])
        return true
    }

    public func socketDisconnected(_ id: String) {
        let shardedRooms = shardedRoomsOf(id)
        if let change = registry.withLock({ $0.disconnect(id) }) { mirror.enqueue(change) }
        if let shardedRooms { shardedRoomsTouched(namespace: shardedRooms.namespace, rooms: shardedRooms.rooms) }
        tracker.socketGone(id)
    }

    public func socketJoined(_ id: String, rooms: [String]) {
        registry.withLock { _ = $0.join(id, rooms: rooms) }
        if let touched = shardedRoomsOf(id) { shardedRoomsTouched(namespace: touched.namespace, rooms: rooms.map(Room.name)) }
    }

    public func socketLeft(_ id: String, rooms: [String]) {
        registry.withLock { _ = $0.leave(id, rooms: rooms) }
        if let touched = shardedRoomsOf(id) { shardedRoomsTouched(namespace: touched.namespace, rooms: rooms.map(Room.name)) }
    }

    /// Removes the sockets a node connection registered, when it ends (the
    /// node is gone, and so are its sockets); returns how many there were.
    /// A socket another connection registered again since is not its any more.
    @discardableResult
    public func socketsDisconnected(ownedBy owner: UInt32) -> Int {
        let (owned, _) = registry.read { $0.sockets(ownedBy: owner) }
        for id in owned { socketDisconnected(id) }
        return owned.count
    }
}
