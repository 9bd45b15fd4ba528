extension ClusterMember {
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
