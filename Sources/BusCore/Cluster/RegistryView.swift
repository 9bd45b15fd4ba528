import ClusterRequests
import SocketIOCodec

/// The registry as the request machines read it. A v1 node's rooms are all
/// strings, so for it a numeric room in a request is matched by its text.
struct RegistryView: ClusterRegistryView {
    let registry: SocketRegistry
    let typed: Bool

    func sockets(namespace: String, rooms: [Room], except: [Room]) -> [String] {
        typed
            ? registry.select(namespace: namespace, typedRooms: rooms, except: except)
            : registry.select(namespace: namespace, rooms: rooms.map(\.description), except: except.map(\.description))
    }

    func forEachSocketId(namespace: String, rooms: [Room], except: [Room], _ body: (UnsafeRawBufferPointer) -> Void) {
        typed
            ? registry.forEachSelectedId(namespace: namespace, typedRooms: rooms, except: except, body)
            : registry.forEachSelectedId(
                namespace: namespace,
                typedRooms: rooms.map { .name($0.description) },
                except: except.map { .name($0.description) },
                body
            )
    }

    func rooms(namespace: String) -> [Room] { registry.allRooms(namespace: namespace) }

    func writeRooms(namespace: String, to list: inout AnswerListWriter) {
        registry.writeRooms(namespace: namespace, to: &list)
    }

    func writeSockets(namespace: String, rooms: [Room], except: [Room], to list: inout AnswerListWriter) {
        typed
            ? registry.writeSockets(namespace: namespace, typedRooms: rooms, except: except, to: &list)
            : registry.writeSockets(
                namespace: namespace,
                typedRooms: rooms.map { .name($0.description) },
                except: except.map { .name($0.description) },
                to: &list
            )
    }

    func rooms(ofSocket id: String, namespace: String) -> [Room]? { registry.rooms(ofSocket: id, namespace: namespace) }
}
