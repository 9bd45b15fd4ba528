import LocalProtocol
import SocketIOCodec
import Synchronization

/// The router's deliveries, straight from the decoded broadcast to the
/// connections' queues: the DELIVER or DELIVER_TO_ROOMS frame is written once
/// (on the stack) and copied into each connection's queue, with no
/// ``NodeCommand`` or ``LocalFrame`` built and taken apart per message
/// (a third of the delivery's instructions). Byte for byte the frame
/// ``send(_:flush:)`` would queue for the same command, which remains the
/// path for a frame the writer leaves to ``FrameWriter`` (split or refused).
extension NodeLinkServer {
    /// A routed broadcast for the sockets `socketIds` (DELIVER).
    func deliver(
        namespace: String,
        socketIds: [String],
        ackId: UInt64,
        packet: [UInt8],
        attachments: [[UInt8]],
        flags: DeliveryFlags
    ) {
        queueDelivery(
            needsVersion2: false,
            { write in
                DeliverFrameWriter.withDeliver(
                    ackId: ackId,
                    flags: flags,
                    namespace: namespace,
                    socketIds: socketIds,
                    packet: packet,
                    attachments: attachments,
                    write
                )
            },
            orElse: .deliver(
                namespace: namespace,
                socketIds: socketIds,
                ackId: ackId,
                packet: packet,
                attachments: attachments,
                volatile: flags.volatile,
                compress: flags.compress
            )
        )
    }

    /// A routed broadcast a version 2 node targets by its own rooms (DELIVER_TO_ROOMS).
    func deliverToRooms(
        namespace: String,
        rooms: [LocalRoom],
        except: [LocalRoom],
        ackId: UInt64,
        packet: [UInt8],
        attachments: [[UInt8]],
        flags: DeliveryFlags
    ) {
        queueDelivery(
            needsVersion2: true,
            { write in
                DeliverFrameWriter.withDeliverToRooms(
                    ackId: ackId,
                    flags: flags,
                    namespace: namespace,
                    rooms: rooms,
                    except: except,
                    packet: packet,
                    attachments: attachments,
                    write
                )
            },
            // Built only when the writer leaves the frame to send(_:flush:).
            orElse: .deliverToRooms(
                namespace: namespace,
                rooms: rooms.map(Room.init),
                except: except.map(Room.init),
                ackId: ackId,
                packet: packet,
                attachments: attachments,
                volatile: flags.volatile,
                compress: flags.compress
            )
        )
    }

    /// Queues the frame `withFrame` lends to every ready connection (of
    /// version 2 when it needs it) and counts it delivered when one queued
    /// it; a frame the writer leaves (split or refused) goes as `command`
    /// through ``send(_:flush:)``. No connection: counted as `unrouted`, as
    /// ``send(_:flush:)`` does.
    private func queueDelivery(
        needsVersion2: Bool,
        _ withFrame: ((UnsafeRawBufferPointer) -> Bool) -> Bool?,
        orElse command: @autoclosure () -> NodeCommand
    ) {
        let all = connections.withLock { $0 }
        func eligible(_ connection: NodeConnection) -> Bool {
            connection.isReady && (!needsVersion2 || connection.sessionVersion >= 2)
        }
        guard all.contains(where: eligible) else {
            unrouted.add(1, ordering: .relaxed)
            return
        }
        let queued = withFrame { frame in
            var queued = false
            for connection in all where eligible(connection) {
                if connection.send(frameBytes: frame, flush: false) { queued = true }
            }
            return queued
        }
        switch queued {
        case nil: send(command(), flush: false)
        case true?: sentDeliveries.add(1, ordering: .relaxed)
        case false?: break
        }
    }
}
