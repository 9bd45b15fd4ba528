public import SocketIOCodec

/// Which node busd speaks for, as far as answering the cluster goes.
public enum NodePresence: Sendable, Hashable {
    /// A local-protocol v2 connector: its rooms decide, it answers questions.
    case v2
    /// A v1 connector: busd's registry decides, the node cannot answer.
    case v1
    /// No node connected: busd answers as an empty node would.
    case absent
}

/// What the registry knows, read-only (busd's registry of its node's sockets).
public protocol ClusterRegistryView {
    /// The node's sockets of `namespace` in any of `rooms` (all when empty)
    /// and in none of `except` (the in-memory adapter's rule).
    func sockets(namespace: String, rooms: [Room], except: [Room]) -> [String]
    /// The ids of ``sockets(namespace:rooms:except:)``, in its order, as
    /// UTF-8 bytes valid during each call (no String per socket).
    func forEachSocketId(namespace: String, rooms: [Room], except: [Room], _ body: (UnsafeRawBufferPointer) -> Void)
    /// Every room of `namespace` (socket-id rooms included).
    func rooms(namespace: String) -> [Room]
    /// ``rooms(namespace:)`` in its order, written into `list` (socket ids from their bytes).
    func writeRooms(namespace: String, to list: inout AnswerListWriter)
    /// The sockets of ``sockets(namespace:rooms:except:)`` with their rooms,
    /// written with ``AnswerListWriter/appendSocket(id:ownIdFirst:rooms:)`` (rooms as
    /// ``rooms(ofSocket:namespace:)`` lists them).
    func writeSockets(namespace: String, rooms: [Room], except: [Room], to list: inout AnswerListWriter)
    /// The rooms of one socket of `namespace`, nil when it is not here.
    func rooms(ofSocket id: String, namespace: String) -> [Room]?
}

extension ClusterRegistryView {
    public func writeRooms(namespace: String, to list: inout AnswerListWriter) {
        for room in rooms(namespace: namespace) { list.append(room) }
    }

    public func writeSockets(namespace: String, rooms: [Room], except: [Room], to list: inout AnswerListWriter) {
        for var id in sockets(namespace: namespace, rooms: rooms, except: except) {
            let rooms = self.rooms(ofSocket: id, namespace: namespace) ?? []
            id.withUTF8 { list.appendSocket(id: UnsafeRawBufferPointer($0), ownIdFirst: false, rooms: rooms) }
        }
    }

    public func forEachSocketId(
        namespace: String,
        rooms: [Room],
        except: [Room],
        _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        for var id in sockets(namespace: namespace, rooms: rooms, except: except) {
            id.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }
}

/// socketsJoin, socketsLeave, disconnectSockets.
public enum ApplyOperation: UInt8, Sendable, Hashable {
    case join = 1
    case leave = 2
    case disconnect = 3
}

/// The question kinds of QUESTION (0x28): what only the node knows.
public enum QuestionKind: UInt8, Sendable, Hashable, CaseIterable {
    case fetch = 1
    case serverSideEmit = 2
    case custom = 3

    /// The label of `socketbus_node_answers_missed_total{kind}`.
    public var label: String {
        switch self {
        case .fetch: return "fetch"
        case .serverSideEmit: return "server_side_emit"
        case .custom: return "custom"
        }
    }
}

/// An acked broadcast from another server for this node's sockets.
public struct ClusterDelivery: Sendable, Hashable {
    /// busd's ack id, already in `packet`.
    public var ackId: UInt64
    public var namespace: String
    public var rooms: [Room]
    public var except: [Room]
    /// The encoded Socket.IO packet (text and attachments) with the ack id.
    public var packet: EncodedPacket
    /// v1: the registry's targets; nil for v2 (DELIVER_TO_ROOMS: the node's rooms decide).
    public var socketIds: [String]?

    public init(
        ackId: UInt64,
        namespace: String,
        rooms: [Room],
        except: [Room],
        packet: EncodedPacket,
        socketIds: [String]?
    ) {
        self.ackId = ackId
        self.namespace = namespace
        self.rooms = rooms
        self.except = except
        self.packet = packet
        self.socketIds = socketIds
    }
}

/// One thing to do, in order, as the request state machines decide it.
public enum ClusterAction: Sendable, Hashable {
    /// PUBLISH `payload` on `channel`.
    case publish(channel: String, payload: [UInt8])
    /// v2: APPLY (0x27), the node's rooms choose the sockets.
    case apply(ApplyOperation, namespace: String, rooms: [Room], except: [Room], targets: [Room], close: Bool)
    /// v1: the registry chose `socketIds` (SOCKETS_JOIN/LEAVE/DISCONNECT).
    case applyToSockets(ApplyOperation, namespace: String, socketIds: [String], rooms: [Room], close: Bool)
    /// SERVER_SIDE_EMIT (0x25) to the node.
    case serverSideEmit(namespace: String, data: [JSValue])
    /// QUESTION (0x28) to the node; `body` is JSON.
    case ask(request: UInt32, kind: QuestionKind, namespace: String, body: [UInt8])
    /// Deliver an acked broadcast (DELIVER_TO_ROOMS for v2, DELIVER for v1).
    case deliver(ClusterDelivery)
    /// The node did not answer in time; busd answered for it (a metric,
    /// labelled `fetch`, `server_side_emit`, `custom` or `delivered`).
    case nodeAnswerMissed(kind: String)
    /// `PUBSUB NUMSUB <key>-request#<nsp>#` for the node's request; the
    /// result goes to ``OutgoingRequests/serverCount(request:result:now:)``.
    case countServers(request: UInt32, namespace: String)
    /// CLUSTER_REPLY (0x29) to the node; `body` is JSON (empty for none).
    case reply(request: UInt32, status: ClusterReplyStatus, body: [UInt8])
    /// ACK_COUNT (0x2A): one server's client count of the node's acked broadcast.
    case ackCount(request: UInt32, clientCount: UInt32)
    /// ACK_ARGUMENT (0x2B): one client's first ack argument, JSON.
    case ackArgument(request: UInt32, argument: [UInt8])
}

/// CLUSTER_REPLY's status byte.
public enum ClusterReplyStatus: UInt8, Sendable, Hashable {
    case complete = 0
    case timedOut = 1
    case failed = 2
}
