/// A message on `<key>-response#<nsp>#[<uid>#]`.
///
/// Responses carry no type for most requests (only 6, 8 and 9 do), so the
/// kind is read from the fields present, as the requesting adapter does by
/// matching the request id to what it asked.
public struct ResponseMessage: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// SOCKETS reply: socket ids.
        case sockets([String])
        /// Legacy clients reply: socket ids.
        case clients([String])
        /// ALL_ROOMS reply, or legacy clientRooms/allRooms.
        case rooms([Room])
        /// REMOTE_FETCH reply: `{id, handshake, rooms, data}` per socket.
        case fetchedSockets([JSValue])
        /// SERVER_SIDE_EMIT reply (type 6): the first ack argument.
        case serverSideEmit(JSValue)
        /// BROADCAST_CLIENT_COUNT (type 8).
        case broadcastClientCount(Int)
        /// BROADCAST_ACK (type 9): one client's first ack argument.
        case broadcastAck(JSValue)
        /// Legacy customRequest reply.
        case customData(JSValue)
        /// Legacy remoteJoin/remoteLeave/remoteDisconnect reply: just the id.
        case acknowledged
        case unknown
    }

    public var generation: RequestGeneration
    public var encoding: PayloadEncoding
    public var requestId: String?
    public var kind: Kind
    public var value: JSValue

    public init(_ value: JSValue, encoding: PayloadEncoding) throws(CodecError) {
        guard case .object(let object) = value else {
            throw CodecError(.unexpectedShape, "a response is an object; got \(value)")
        }
        let legacy = object["requestid"] != nil
        self.value = value
        self.encoding = encoding
        self.generation = legacy ? .legacy : .modern
        self.requestId = (legacy ? object["requestid"] : object["requestId"])?.stringValue
        self.kind = try Self.kind(object)
    }

    private static func kind(_ object: JSObject) throws(CodecError) -> Kind {
        if case .number(let type) = object["type"] {
            switch type {
            case 6: return .serverSideEmit(object["data"] ?? .undefined)
            case 8:
                guard case .number(let n) = object["clientCount"], n >= 0, n < 1e15 else {
                    throw CodecError(.unexpectedShape, "BROADCAST_CLIENT_COUNT without a 'clientCount' number")
                }
                return .broadcastClientCount(Int(n))
            case 9: return .broadcastAck(object["packet"] ?? .undefined)
            default: return .unknown
            }
        }
        if let clients = object["clients"]?.arrayValue {
            return .clients(clients.compactMap(\.stringValue))
        }
        if let sockets = object["sockets"]?.arrayValue {
            if sockets.allSatisfy({ $0.stringValue != nil }) && !(sockets.first?.objectValue != nil) {
                if sockets.isEmpty { return .fetchedSockets([]) }
                return .sockets(sockets.compactMap(\.stringValue))
            }
            return .fetchedSockets(sockets)
        }
        if let rooms = object["rooms"]?.arrayValue {
            return .rooms(rooms.compactMap(Room.init))
        }
        if let data = object["data"] {
            return .customData(data)
        }
        if object.count == 1 && (object["requestid"] != nil || object["requestId"] != nil) {
            return .acknowledged
        }
        return .unknown
    }
}
