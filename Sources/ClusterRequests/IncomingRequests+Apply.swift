import SocketIOCodec

extension IncomingRequests {
    /// socketsJoin / socketsLeave / disconnectSockets (`opts` form: no
    /// self-filter, no reply; a requester applies its own when it comes back)
    /// and the single-socket forms (the owner replies `{requestId}`).
    func applied(
        _ operation: ApplyOperation,
        _ target: RequestTarget,
        rooms: [Room],
        close: Bool,
        _ request: RequestMessage,
        _ namespace: String,
        _ node: NodePresence,
        _ registry: some ClusterRegistryView
    ) -> [ClusterAction] {
        guard node != .absent else { return [] }
        switch target {
        case .selector(let selected, let except):
            if node == .v2 {
                return [
                    .apply(
                        operation,
                        namespace: namespace,
                        rooms: selected,
                        except: except,
                        targets: rooms,
                        close: close
                    )
                ]
            }
            let ids = registry.sockets(namespace: namespace, rooms: selected, except: except)
            guard !ids.isEmpty else { return [] }
            return [.applyToSockets(operation, namespace: namespace, socketIds: ids, rooms: rooms, close: close)]
        case .socket(let id):
            guard registry.rooms(ofSocket: id, namespace: namespace) != nil else { return [] }
            var actions: [ClusterAction] = [
                node == .v2
                    ? .apply(
                        operation,
                        namespace: namespace,
                        rooms: [.name(id)],
                        except: [],
                        targets: rooms,
                        close: close
                    )
                    : .applyToSockets(operation, namespace: namespace, socketIds: [id], rooms: rooms, close: close)
            ]
            if let requestId = request.requestId {
                let reply =
                    request.generation == .legacy
                    ? ResponseEncoding.legacy(requestId: requestId)
                    : ResponseEncoding.acknowledged(requestId: requestId)
                actions.append(publish(namespace, reply))
            }
            return actions
        }
    }
}
