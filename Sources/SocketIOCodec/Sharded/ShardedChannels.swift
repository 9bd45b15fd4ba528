/// The sharded adapter's channel names (`channelPrefix`, default `socket.io`)
/// and its rule for where a message is published (`computeChannel`).
///
/// | channel | carries |
/// |---|---|
/// | `<prefix>#<nsp>#` | every request and broadcast, unless the rule below picks a room channel |
/// | `<prefix>#<nsp>#<uid>#` | responses to the server with that uid |
/// | `<prefix>#<nsp>#<room>#` | dynamic modes: broadcasts to that one room |
public struct ShardedChannels: Sendable, Hashable {
    /// `subscriptionMode` of `createShardedAdapter`.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Only the namespace and response channels.
        case `static`
        /// Also one channel per public room (not a socket id); the default.
        case dynamic
        /// Also one channel per room, socket-id rooms included (8.3.0+).
        case dynamicPrivate = "dynamic-private"
    }

    public var prefix: String
    public var mode: Mode

    public static let defaultPrefix = "socket.io"

    public init(prefix: String = defaultPrefix, mode: Mode = .dynamic) {
        self.prefix = prefix
        self.mode = mode
    }

    /// The namespace's main channel.
    public func main(_ namespace: String) -> String { "\(prefix)#\(namespace)#" }

    /// Where responses to the server `uid` go.
    public func responses(_ namespace: String, uid: String) -> String { "\(prefix)#\(namespace)#\(uid)#" }

    /// A room's own channel (dynamic modes).
    public func room(_ namespace: String, _ room: Room) -> String { "\(prefix)#\(namespace)#\(room.channelText)#" }

    /// Whether a node in this mode subscribes a room's channel: in `dynamic`
    /// only rooms that are not one of its sockets' ids, in `dynamic-private`
    /// every room, in `static` none.
    public func subscribesRoom(isSocketId: Bool) -> Bool {
        switch mode {
        case .static: return false
        case .dynamic: return !isSocketId
        case .dynamicPrivate: return true
        }
    }

    /// The stock publishing rule: a BROADCAST without requestId to exactly one
    /// room goes to that room's channel in `dynamic` (unless the room looks
    /// like a socket id: a string of 20 UTF-16 units) and `dynamic-private`;
    /// everything else goes to the main channel.
    public func channel(for message: ShardedMessage, namespace: String) -> String {
        guard case .broadcast(_, nil, let options) = message.body, options.rooms.count == 1 else {
            return main(namespace)
        }
        let room = options.rooms[0]
        switch mode {
        case .static:
            return main(namespace)
        case .dynamic:
            if case .name(let name) = room, name.utf16.count == 20 { return main(namespace) }
            return self.room(namespace, room)
        case .dynamicPrivate:
            return self.room(namespace, room)
        }
    }
}
