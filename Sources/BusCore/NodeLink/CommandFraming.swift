import LocalProtocol
import SocketIOCodec

/// A node command as encoded frames. A command for more sockets than one
/// frame can list (about 750,000 socket ids fill 16 MiB) becomes several
/// frames, each with a part of the ids; the ack tables are per socket, so
/// the parts are what one frame would have been. What still cannot be
/// framed (a packet over 16 MiB, a room name over 65535 bytes) throws.
enum CommandFraming {
    static func encodedFrames(for command: NodeCommand) throws(LocalFrameEncodingError) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        try append(command, to: &frames)
        return frames
    }

    private static func append(_ command: NodeCommand, to frames: inout [[UInt8]]) throws(LocalFrameEncodingError) {
        do {
            frames.append(try frame(for: command).encoded)
        } catch {
            guard error.code == .frameTooLarge, let ids = command.socketIds, ids.count > 1 else { throw error }
            let half = ids.count / 2
            try append(command.with(socketIds: Array(ids[..<half])), to: &frames)
            try append(command.with(socketIds: Array(ids[half...])), to: &frames)
        }
    }

    static func frame(for command: NodeCommand) -> LocalFrame {
        switch command {
        case .deliver(let namespace, let socketIds, let ackId, let packet, let attachments, let volatile, let compress):
            return .deliver(
                ackId: ackId,
                flags: DeliveryFlags(volatile: volatile, compress: compress),
                namespace: namespace,
                socketIds: socketIds,
                packet: packet,
                attachments: attachments
            )
        case .join(let namespace, let socketIds, let rooms):
            return .socketsJoin(namespace: namespace, socketIds: socketIds, rooms: rooms)
        case .leave(let namespace, let socketIds, let rooms):
            return .socketsLeave(namespace: namespace, socketIds: socketIds, rooms: rooms)
        case .disconnect(let namespace, let socketIds, let close):
            return .socketsDisconnect(namespace: namespace, socketIds: socketIds, close: close)
        case .serverSideEmit(let namespace, let data):
            return .serverSideEmit(
                namespace: namespace,
                data: Array((JSONStringifier.string(.array(data)) ?? "[]").utf8)
            )
        case .deliverToRooms(
            let namespace,
            let rooms,
            let except,
            let ackId,
            let packet,
            let attachments,
            let volatile,
            let compress
        ):
            return .deliverToRooms(
                ackId: ackId,
                flags: DeliveryFlags(volatile: volatile, compress: compress),
                namespace: namespace,
                rooms: rooms.map(LocalRoom.init),
                except: except.map(LocalRoom.init),
                packet: packet,
                attachments: attachments
            )
        case .apply(let namespace, let rooms, let except, let action):
            let (op, targets, close): (ApplyOperation, [Room], Bool)
            switch action {
            case .join(let joined): (op, targets, close) = (.join, joined, false)
            case .leave(let left): (op, targets, close) = (.leave, left, false)
            case .disconnect(let closes): (op, targets, close) = (.disconnect, [], closes)
            }
            return .apply(
                op: op,
                namespace: namespace,
                rooms: rooms.map(LocalRoom.init),
                except: except.map(LocalRoom.init),
                targets: targets.map(LocalRoom.init),
                close: close
            )
        case .question(let request, let kind, let namespace, let body):
            return .question(request: request, kind: kind, namespace: namespace, body: body)
        case .clusterReply(let request, let status, let body):
            return .clusterReply(request: request, status: status, body: body)
        case .ackCount(let request, let clientCount):
            return .ackCount(request: request, clientCount: clientCount)
        case .ackArgument(let request, let argument):
            return .ackArgument(request: request, argument: argument)
        }
    }
}

extension NodeCommand {
    /// The sockets it addresses; nil for a serverSideEmit (the whole node).
    var socketIds: [String]? {
        switch self {
        case .deliver(_, let ids, _, _, _, _, _), .join(_, let ids, _), .leave(_, let ids, _),
            .disconnect(_, let ids, _):
            return ids
        case .serverSideEmit, .deliverToRooms, .apply, .question, .clusterReply, .ackCount, .ackArgument:
            return nil
        }
    }

    /// The same command for other sockets.
    func with(socketIds ids: [String]) -> NodeCommand {
        switch self {
        case .deliver(let namespace, _, let ackId, let packet, let attachments, let volatile, let compress):
            return .deliver(
                namespace: namespace,
                socketIds: ids,
                ackId: ackId,
                packet: packet,
                attachments: attachments,
                volatile: volatile,
                compress: compress
            )
        case .join(let namespace, _, let rooms):
            return .join(namespace: namespace, socketIds: ids, rooms: rooms)
        case .leave(let namespace, _, let rooms):
            return .leave(namespace: namespace, socketIds: ids, rooms: rooms)
        case .disconnect(let namespace, _, let close):
            return .disconnect(namespace: namespace, socketIds: ids, close: close)
        case .serverSideEmit, .deliverToRooms, .apply, .question, .clusterReply, .ackCount, .ackArgument:
            return self
        }
    }
}
