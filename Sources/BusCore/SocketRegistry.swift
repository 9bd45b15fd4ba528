public import SocketIOCodec

/// The authoritative record of the sockets on this busd's node: id,
/// namespace, rooms, connected-at. A value type with no I/O; every change
/// returns the ``RegistryChange`` the Redis mirror must apply.
///
/// Layout is column-wise (one array per field, slots reused through a free
/// list) and socket ids are packed inline with an index of slot numbers
/// (``SocketIdTable``), so a million sockets cost about 60 bytes each. A
/// socket's own-id room is implicit, never stored. Each socket also records
/// the node connection that registered it (its owner), so that connection
/// needs no set of its own to remove its sockets when it ends.
///
/// Rooms keep their type, as a JavaScript `Set` does: the numeric room 123
/// (`io.to(123)`) and the string room "123" are two rooms. The string API is
/// for v1 nodes, whose rooms are all strings.
public struct SocketRegistry: Sendable {
    /// What the Redis mirror needs to do after a change.
    public enum RegistryChange: Sendable, Hashable {
        case owned(socketId: String, namespace: String, connectedAt: Int64)
        case disowned(socketId: String)
    }

    public struct Socket: Sendable, Hashable {
        public var id: String
        public var namespace: String
        /// The rooms as text (a numeric room as JavaScript writes the number).
        public var rooms: [String]
        /// Milliseconds since the Unix epoch.
        public var connectedAt: Int64
        /// The rooms with their type (the own-id room not included).
        public var typedRooms: [Room]

        public init(id: String, namespace: String, rooms: [String], connectedAt: Int64) {
            self.init(id: id, namespace: namespace, typedRooms: rooms.map(Room.name), connectedAt: connectedAt)
        }

        public init(id: String, namespace: String, typedRooms: [Room], connectedAt: Int64) {
            self.id = id
            self.namespace = namespace
            self.rooms = typedRooms.map(\.description)
            self.typedRooms = typedRooms
            self.connectedAt = connectedAt
        }
    }

    private var ids = SocketIdTable()
    /// The node connection that registered each slot's socket (0: none).
    private var ownerOfSlot: [UInt32] = []
    private var namespaceOfSlot: [UInt16] = []
    private var connectedAtOfSlot: [Int64] = []
    private var live: [Bool] = []
    private var freeSlots: [Int32] = []

    private var namespaces: [String] = []
    private var namespaceIndex: [String: UInt16] = [:]
    /// Live sockets per namespace (by index): a broadcast for a namespace
    /// with none is dropped by its channel name alone.
    private var socketsOfNamespace: [Int] = []

    /// Room membership: (namespace, room) -> slots, and slot -> rooms.
    private struct RoomKey: Hashable, Sendable {
        var namespace: UInt16
        var room: Room
    }
    private var members: [RoomKey: Set<Int32>] = [:]
    /// Indexed by slot (empty for a free slot): large answers walk it in
    /// place, where a dictionary would be hashed and its arrays copied.
    private var roomsOfSlot: [[Room]] = []

    public init() {}

    public var count: Int { ids.count }

    /// The id index's entries (tests: one per socket).
    var indexedIdCount: Int { ids.indexedCount }

    /// Namespaces that have had sockets.
    public var knownNamespaces: [String] { namespaces }

    /// Whether `namespace` has an index (it had a socket; O(1), unlike `knownNamespaces`).
    public func hasIndex(namespace: String) -> Bool { namespaceIndex[namespace] != nil }

    /// Reserves room for `n` sockets (avoids rehashing while filling).
    public mutating func reserveCapacity(_ n: Int) {
        ids.reserveCapacity(n)
        ownerOfSlot.reserveCapacity(n)
        namespaceOfSlot.reserveCapacity(n)
        connectedAtOfSlot.reserveCapacity(n)
        live.reserveCapacity(n)
        roomsOfSlot.reserveCapacity(n)
    }

    // MARK: Changes

    /// Records a new socket. A known id is replaced (a reconnect with the
    /// same id), and then belongs to `owner` (a node connection's id, 0 for none).
    @discardableResult
    public mutating func connect(
        _ id: String,
        namespace: String,
        at connectedAt: Int64,
        owner: UInt32 = 0
    ) -> RegistryChange? {
        // Interned before the old entry goes: a full table leaves it as it was.
        guard let ns = intern(namespace) else { return nil }
        if let slot = ids.slot(of: id) { release(slot) }
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            ids.insert(id, at: slot)
            ownerOfSlot[Int(slot)] = owner
            namespaceOfSlot[Int(slot)] = ns
            connectedAtOfSlot[Int(slot)] = connectedAt
            live[Int(slot)] = true
            roomsOfSlot[Int(slot)] = []
        } else {
            slot = Int32(ids.slotCount)
            ids.insert(id, at: slot)
            ownerOfSlot.append(owner)
            namespaceOfSlot.append(ns)
            connectedAtOfSlot.append(connectedAt)
            live.append(true)
            roomsOfSlot.append([])
        }
        socketsOfNamespace[Int(ns)] += 1
        return .owned(socketId: id, namespace: namespace, connectedAt: connectedAt)
    }

    /// Forgets a socket; nil when it was not known.
    @discardableResult
    public mutating func disconnect(_ id: String) -> RegistryChange? {
        guard let slot = ids.slot(of: id) else { return nil }
        release(slot)
        return .disowned(socketId: id)
    }

    /// The ids of the sockets `owner` registered (a node connection that ended).
    public func sockets(ownedBy owner: UInt32) -> [String] {
        var owned: [String] = []
        for slot in ownerOfSlot.indices where live[slot] && ownerOfSlot[slot] == owner {
            owned.append(ids.string(at: slot))
        }
        return owned
    }

    /// Adds a socket to rooms (strings); returns false when the socket is unknown.
    @discardableResult
    public mutating func join(_ id: String, rooms: [String]) -> Bool {
        join(id, typedRooms: rooms.map(Room.name))
    }

    /// Adds a socket to rooms; returns false when the socket is unknown.
    @discardableResult
    public mutating func join(_ id: String, typedRooms rooms: [Room]) -> Bool {
        guard let slot = ids.slot(of: id) else { return false }
        let ns = namespaceOfSlot[Int(slot)]
        for room in rooms where room != .name(id) && !roomsOfSlot[Int(slot)].contains(room) {
            roomsOfSlot[Int(slot)].append(room)
            members[RoomKey(namespace: ns, room: room), default: []].insert(slot)
        }
        return true
    }

    /// Removes a socket from rooms (strings); returns false when the socket is unknown.
    @discardableResult
    public mutating func leave(_ id: String, rooms: [String]) -> Bool {
        leave(id, typedRooms: rooms.map(Room.name))
    }

    /// Removes a socket from rooms; returns false when the socket is unknown.
    @discardableResult
    public mutating func leave(_ id: String, typedRooms rooms: [Room]) -> Bool {
        guard let slot = ids.slot(of: id) else { return false }
        let ns = namespaceOfSlot[Int(slot)]
        for room in rooms {
            guard let index = roomsOfSlot[Int(slot)].firstIndex(of: room) else { continue }
            roomsOfSlot[Int(slot)].remove(at: index)
            removeMember(slot, from: RoomKey(namespace: ns, room: room))
        }
        return true
    }

    // MARK: Queries

    public func socket(_ id: String) -> Socket? {
        guard let slot = ids.slot(of: id) else { return nil }
        return socket(at: slot)
    }

    public func contains(_ id: String) -> Bool { ids.slot(of: id) != nil }

    /// True when the namespace has a socket.
    public func hasSockets(namespace: String) -> Bool {
        guard let ns = namespaceIndex[namespace] else { return false }
        return socketsOfNamespace[Int(ns)] > 0
    }

    /// True when a socket of this namespace is in `room` (or is that
    /// socket): the room channel's text, which may also name a numeric room
    /// (the adapter's `hasRoom` tries the number too).
    public func hasRoom(_ room: String, namespace: String) -> Bool {
        guard let ns = namespaceIndex[namespace] else { return false }
        if let slot = ids.slot(of: room), namespaceOfSlot[Int(slot)] == ns { return true }
        if members[RoomKey(namespace: ns, room: .name(room))] != nil { return true }
        guard let number = Double(room), number.isFinite else { return false }
        return members[RoomKey(namespace: ns, room: .number(number))] != nil
    }

    /// The sockets of `namespace` in any of `rooms` (all of them when
    /// empty), minus those in any room of `except`: the adapter's rule.
    public func select(namespace: String, rooms: [String], except: [String]) -> [String] {
        select(namespace: namespace, typedRooms: rooms.map(Room.name), except: except.map(Room.name))
    }

    /// As ``select(namespace:rooms:except:)`` with typed rooms (123 is not "123").
    public func select(namespace: String, typedRooms rooms: [Room], except: [Room]) -> [String] {
        var selected: [String] = []
        if rooms.isEmpty { selected.reserveCapacity(count) }
        forEachSelected(namespace: namespace, typedRooms: rooms, except: except) { selected.append(self.ids.string(at: $0)) }
        return selected
    }

    /// The ids ``select(namespace:typedRooms:except:)`` returns, in its order,
    /// as UTF-8 bytes valid during each call: no String per socket.
    public func forEachSelectedId(
        namespace: String,
        typedRooms rooms: [Room],
        except: [Room],
        _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        forEachSelected(namespace: namespace, typedRooms: rooms, except: except) { ids.withUTF8(at: $0, body) }
    }

    /// The slots of the selection, in slot order.
    private func forEachSelected(namespace: String, typedRooms rooms: [Room], except: [Room], _ body: (Int) -> Void) {
        guard let ns = namespaceIndex[namespace] else { return }
        if rooms.isEmpty {
            // Every socket, in slot order already: no set to build and sort
            // (a 10k-socket SOCKETS or fetchSockets answer).
            var excluded = Set<Int32>()
            for room in except { forEachSlot(in: room, ns) { excluded.insert($0) } }
            live.withUnsafeBufferPointer { live in
                namespaceOfSlot.withUnsafeBufferPointer { namespaceOfSlot in
                    for slot in live.indices
                    where live[slot] && namespaceOfSlot[slot] == ns
                        && (excluded.isEmpty || !excluded.contains(Int32(slot)))
                    {
                        body(slot)
                    }
                }
            }
            return
        }
        var chosen = Set<Int32>()
        for room in rooms { forEachSlot(in: room, ns) { chosen.insert($0) } }
        for room in except { forEachSlot(in: room, ns) { chosen.remove($0) } }
        for slot in chosen.sorted() { body(Int(slot)) }
    }

    /// Every room of `namespace`, socket-id rooms included, each once, in
    /// the order of the sockets' slots.
    public func allRooms(namespace: String) -> [Room] {
        guard let ns = namespaceIndex[namespace] else { return [] }
        var seen: Set<Room> = []
        var rooms: [Room] = []
        for (slot, alive) in live.enumerated() where alive && namespaceOfSlot[slot] == ns {
            rooms.append(.name(ids.string(at: slot)))
            for room in roomsOfSlot[slot] where seen.insert(room).inserted { rooms.append(room) }
        }
        return rooms
    }

    /// ``allRooms(namespace:)`` written into an answer (ids from their bytes).
    ///
    /// A room is listed after the id of the first socket (in slot order)
    /// that is in it. That slot comes from the members sets (integers), so
    /// the walk hashes no room: most sockets hold no room listed first.
    public func writeRooms(namespace: String, to list: inout AnswerListWriter) {
        guard let ns = namespaceIndex[namespace] else { return }
        var firstAt: [(slot: Int32, room: Room)] = []
        for (key, slots) in members where key.namespace == ns {
            if let first = slots.min() { firstAt.append((first, key.room)) }
        }
        firstAt.sort { $0.slot < $1.slot }
        list.reserve(count * 23 + firstAt.count * 16)
        var next = 0
        var pending: [Room] = []
        do {
            roomsOfSlot.withUnsafeBufferPointer { roomsOfSlot in
                forEachSelected(namespace: namespace, typedRooms: [], except: []) { slot in
                    ids.withUTF8(at: slot) { list.append(utf8: $0) }
                    while next < firstAt.count, firstAt[next].slot < Int32(slot) { next += 1 }
                    guard next < firstAt.count, firstAt[next].slot == Int32(slot) else { return }
                    pending.removeAll(keepingCapacity: true)
                    while next < firstAt.count, firstAt[next].slot == Int32(slot) {
                        pending.append(firstAt[next].room)
                        next += 1
                    }
                    // In the socket's own order, as the walk with a set listed them.
                    for room in roomsOfSlot[slot] {
                        guard let index = pending.firstIndex(of: room) else { continue }
                        pending.remove(at: index)
                        list.append(room)
                    }
                }
            }
        }
    }

    /// The selected sockets with their rooms (own id first) written into an
    /// answer, as ``rooms(ofSocket:namespace:)`` lists them.
    public func writeSockets(
        namespace: String,
        typedRooms rooms: [Room],
        except: [Room],
        to list: inout AnswerListWriter
    ) {
        if rooms.isEmpty { list.reserve(count * 96) }
        roomsOfSlot.withUnsafeBufferPointer { roomsOfSlot in
            forEachSelected(namespace: namespace, typedRooms: rooms, except: except) { slot in
                roomsOfSlot[slot].withUnsafeBufferPointer { rooms in
                    ids.withUTF8(at: slot) { list.appendSocket(id: $0, ownIdFirst: true, rooms: rooms) }
                }
            }
        }
    }

    /// A socket's rooms as socket.io lists them (its own id first), nil
    /// when it is not a socket of `namespace`.
    public func rooms(ofSocket id: String, namespace: String) -> [Room]? {
        guard let slot = ids.slot(of: id), namespaces[Int(namespaceOfSlot[Int(slot)])] == namespace else {
            return nil
        }
        return [.name(id)] + roomsOfSlot[Int(slot)]
    }

    /// Every socket, for a full rewrite of the Redis mirror.
    public func forEachSocket(_ body: (_ id: String, _ namespace: String, _ connectedAt: Int64) -> Void) {
        for slot in live.indices where live[slot] {
            body(ids.string(at: slot), namespaces[Int(namespaceOfSlot[slot])], connectedAtOfSlot[slot])
        }
    }

    // MARK: Internals

    private func socket(at slot: Int32) -> Socket {
        Socket(
            id: ids.string(at: Int(slot)),
            namespace: namespaces[Int(namespaceOfSlot[Int(slot)])],
            typedRooms: roomsOfSlot[Int(slot)],
            connectedAt: connectedAtOfSlot[Int(slot)]
        )
    }

    /// The sockets in a room of a namespace, a socket's own id being a room
    /// it is in; walked in place, never copied.
    private func forEachSlot(in room: Room, _ ns: UInt16, _ body: (Int32) -> Void) {
        members[RoomKey(namespace: ns, room: room)]?.forEach(body)
        if case .name(let id) = room, let own = ids.slot(of: id), namespaceOfSlot[Int(own)] == ns { body(own) }
    }

    private mutating func release(_ slot: Int32) {
        let ns = namespaceOfSlot[Int(slot)]
        socketsOfNamespace[Int(ns)] -= 1
        for room in roomsOfSlot[Int(slot)] {
            removeMember(slot, from: RoomKey(namespace: ns, room: room))
        }
        roomsOfSlot[Int(slot)] = []
        live[Int(slot)] = false
        ids.remove(at: slot)
        ownerOfSlot[Int(slot)] = 0
        freeSlots.append(slot)
    }

    private mutating func removeMember(_ slot: Int32, from room: RoomKey) {
        guard var set = members[room] else { return }
        set.remove(slot)
        members[room] = set.isEmpty ? nil : set
    }

    /// The namespace's 16-bit index; nil when all 65,536 are taken by
    /// namespaces that have sockets (the node's namespaces come from its
    /// frames: a node must not be able to make the index overflow). Once
    /// full, the index of a namespace without sockets is given again.
    private mutating func intern(_ namespace: String) -> UInt16? {
        if let index = namespaceIndex[namespace] { return index }
        if namespaces.count <= Int(UInt16.max) {
            let index = UInt16(truncatingIfNeeded: namespaces.count)
            namespaces.append(namespace)
            namespaceIndex[namespace] = index
            socketsOfNamespace.append(0)
            return index
        }
        guard let unused = socketsOfNamespace.firstIndex(of: 0) else { return nil }
        let index = UInt16(truncatingIfNeeded: unused)
        namespaceIndex[namespaces[unused]] = nil
        namespaces[unused] = namespace
        namespaceIndex[namespace] = index
        return index
    }
}
