import ClusterRequests
import Logging
import SocketIOCodec
import Synchronization

/// CLUSTER_REQUEST kind 9, ROOMS_SUBSCRIBED (docs/local-protocol-v2.md): the
/// node's `join()` waits until busd has the rooms' channels subscribed.
///
/// In the sharded adapter's dynamic modes a broadcast to one room is
/// published on that room's own channel, which busd SSUBSCRIBEs when its
/// node tells it of the join; a stock node's `join()` resolves only after
/// Redis has confirmed its SSUBSCRIBE. The connector sends this after
/// ROOMS_JOIN (frames are handled in order, so the SSUBSCRIBE has been
/// written) and resolves `join()` with busd's reply.
extension ClusterMember {
    /// The CLUSTER_REQUEST kind of the wait (not a ``ClusterRequestKind``:
    /// nothing is published for it).
    static let roomsSubscribedKind: UInt8 = 9

    /// Replies COMPLETE once Redis confirmed the SSUBSCRIBE of every channel
    /// the rooms of `body` (`{"rooms":[…]}`) need, at once when none is
    /// needed (body `{"waits":false}` when this busd never needs any: the
    /// connector stops asking for the session), and FAILED with
    /// `{"error":…}` when they are not confirmed within the node's time-out
    /// bounded by `cluster.node_answer_timeout`.
    func nodeAwaitsRoomChannels(
        request: UInt32,
        namespace: String,
        timeoutMilliseconds: UInt32,
        body: [UInt8]
    ) throws(UnusableContent) {
        guard let sharded, sharded.channels.mode != .static else {
            reply(request, .complete, .object(JSObject([("waits", .bool(false))])))
            return
        }
        guard let rooms = Self.rooms(inBody: body) else {
            throw UnusableContent("ROOMS_SUBSCRIBED body is not {\"rooms\":[strings and numbers]}")
        }
        // The channels this busd subscribes for those rooms now (a socket-id
        // room in `dynamic` has none; a room left meanwhile is not awaited).
        let wanted = sharded.roomChannels.withLock { subscribed in
            Set(rooms.map { sharded.channels.room(namespace, $0) }.filter { subscribed.contains($0) })
        }
        let bound = configuration.nodeAnswerTimeout
        let timeout = timeoutMilliseconds > 0 ? min(bound, .milliseconds(Int64(timeoutMilliseconds))) : bound
        // Confirmations come from the `ssubscribe` replies AdapterSubscriber.handle
        // reads: of its own connection, and on a Redis Cluster of each slot
        // owner's link too (drainShardLinks hands their replies to the same handle).
        guard let subscriber = self.subscriber else {
            reply(request, .failed, .object(JSObject([("error", .string("busd is not subscribed to Redis yet"))])))
            return
        }
        subscriber.shardWaits.wait(
            for: wanted,
            confirmed: { subscriber.confirmedShardChannels },
            timeout: timeout
        ) { [self] confirmed in
            if confirmed {
                reply(request, .complete, .object(JSObject([("waits", .bool(true))])))
            } else {
                logger.warning(
                    "Redis did not confirm a room channel's SSUBSCRIBE in time; the node's join() was told so",
                    metadata: ["namespace": "\(namespace)", "timeout": "\(timeout)"]
                )
                let message = "Redis did not confirm the SSUBSCRIBE of the room channels within \(timeout)"
                reply(request, .failed, .object(JSObject([("error", .string(message))])))
            }
        }
    }

    /// Joins whose room channels Redis did not confirm in time.
    public var roomChannelWaitsTimedOut: Int { subscriber?.shardWaits.timedOut ?? 0 }

    /// Joins that waited for a room channel not confirmed yet.
    public var roomChannelWaitsStarted: Int { subscriber?.shardWaits.started ?? 0 }

    private func reply(_ request: UInt32, _ status: ClusterReplyStatus, _ body: JSValue) {
        perform([.reply(request: request, status: status, body: JSONText.bytes(body))], flush: true)
    }

    /// `{"rooms":[…]}`: strings and numbers; nil for anything else.
    static func rooms(inBody body: [UInt8]) -> [Room]? {
        guard case .object(let object)? = try? JSONText.value(body), case .array(let values)? = object["rooms"] else {
            return nil
        }
        var rooms: [Room] = []
        for value in values {
            switch value {
            case .string(let name): rooms.append(.name(name))
            case .number(let number) where number.isFinite: rooms.append(.number(number))
            default: return nil
            }
        }
        return rooms
    }
}
