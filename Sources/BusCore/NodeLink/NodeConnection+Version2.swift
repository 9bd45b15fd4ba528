import LocalProtocol
import SocketIOCodec

extension NodeConnection {
    /// The node → busd frames of version 2 (the session's version was checked).
    /// A frame whose content busd cannot use throws ``LocalProtocolError``
    /// `unusable content`: answered, counted, and the link stays.
    func handleVersion2(_ frame: LocalFrame, member: ClusterMember) throws(LocalProtocolError) {
        switch frame {
        case .namespace(let namespace):
            member.nodeServesNamespace(namespace)
        case .roomsJoin(let namespace, let socketId, let rooms):
            member.socketJoined(socketId, namespace: namespace, rooms: rooms.map(Room.init))
        case .roomsLeave(let namespace, let socketId, let rooms):
            member.socketLeft(socketId, namespace: namespace, rooms: rooms.map(Room.init))
        case .roomsBroadcast(let namespace, let flags, let rooms, let except, let packet, let attachments):
            do {
                let decoded = try PacketDecoder.decode(packet, attachments: attachments)
                try member.publishBroadcast(
                    namespace: namespace,
                    packet: decoded,
                    rooms: rooms.map(Room.init),
                    except: except.map(Room.init),
                    flags: Self.flagObject(flags)
                )
            } catch {
                // As for BROADCAST: a packet busd cannot decode is skipped.
                throw LocalProtocolError(.unusableContent, "ROOMS_BROADCAST packet: \(error)")
            }
        case .delivered(let ackId, let namespace, let socketIds):
            member.nodeDelivered(ackId: ackId, namespace: namespace, socketIds: socketIds)
        case .answer(let request, let status, let body):
            member.nodeAnswered(request: request, status: status, body: body)
        case .clusterRequest(let request, ClusterMember.registryFilterKind, _, _, _):
            asksForRegistryFilter()
            _ = try? send(
                .clusterReply(request: request, status: 0, body: Array(#"{"filters":true}"#.utf8)),
                flush: true
            )
        case .clusterRequest(let request, let kind, let namespace, let timeout, let body):
            do {
                try member.nodeRequested(
                    request: request,
                    kind: kind,
                    namespace: namespace,
                    timeoutMilliseconds: timeout,
                    body: body
                )
            } catch {
                throw LocalProtocolError(.unusableContent, "CLUSTER_REQUEST: \(error)")
            }
        case .broadcastWithAck(
            let request,
            let namespace,
            let flags,
            let rooms,
            let except,
            let timeout,
            let packet,
            let attachments
        ):
            do {
                try member.nodeBroadcastWithAck(
                    request: request,
                    namespace: namespace,
                    flags: flags,
                    rooms: rooms.map(Room.init),
                    except: except.map(Room.init),
                    timeoutMilliseconds: timeout,
                    packet: packet,
                    attachments: attachments
                )
            } catch {
                throw LocalProtocolError(.unusableContent, "BROADCAST_WITH_ACK: \(error)")
            }
        default:
            throw LocalProtocolError(.unexpectedFrame, "\(frame.name) is not a frame of version 2 from the node")
        }
    }
}
