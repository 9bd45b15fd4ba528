import SocketIOCodec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The socket registry behind its lock, with a generation number that every
/// locked access through ``withLock(_:)`` bumps. The subscriber keeps the
/// answers of its last room check and its last selection with the
/// generation they were computed at, and reuses them while it has not
/// moved: most traffic repeats a channel and a room, and the registry
/// changes far less often than messages arrive.
final class GuardedRegistry: Sendable {
    private let mutex = Mutex(SocketRegistry())
    private let changes = Atomic<UInt64>(0)

    /// Any access that may change the registry (the generation moves on).
    func withLock<R: Sendable>(_ body: (inout SocketRegistry) -> R) -> R {
        mutex.withLock { registry in
            defer { changes.add(1, ordering: .releasing) }
            return body(&registry)
        }
    }

    /// A read, with the generation it saw (read under the same lock).
    func read<R: Sendable>(_ body: (borrowing SocketRegistry) -> R) -> (R, generation: UInt64) {
        mutex.withLock { registry in (body(registry), changes.load(ordering: .acquiring)) }
    }

    /// The current generation: equal to a ``read(_:)``'s when nothing changed since.
    var generation: UInt64 { changes.load(ordering: .acquiring) }
}

/// The subscriber's last selection (the adapter's rule applied to one
/// broadcast's rooms), reused for the next broadcast with the same rooms
/// while the registry has not changed.
struct CachedSelection {
    private var generation: UInt64 = 0
    private var valid = false
    private var namespace = ""
    /// The options the rooms came with (``BroadcastDelivery/optionsSerial``):
    /// the same nonzero serial, the same rooms, no need to compare them.
    private var optionsSerial: UInt64 = 0
    private var rooms: [Room] = []
    private var except: [Room] = []
    /// The local sockets the adapter's rule picks for the last delivery.
    private(set) var targets: [String] = []

    /// Makes `targets` those of `delivery`, from the registry unless the
    /// last answer still holds.
    mutating func select(namespace: String, _ delivery: BroadcastDelivery, from registry: GuardedRegistry) {
        let generation = registry.generation
        if valid && self.generation == generation && self.namespace == namespace
            && (optionsSerial != 0 && optionsSerial == delivery.optionsSerial
                || rooms == delivery.rooms && except == delivery.except)
        {
            return
        }
        let rooms = delivery.rooms.map(\.description)
        let except = delivery.except.map(\.description)
        let (targets, seen) = registry.read { $0.select(namespace: namespace, rooms: rooms, except: except) }
        self = CachedSelection(
            generation: seen,
            valid: true,
            namespace: namespace,
            optionsSerial: delivery.optionsSerial,
            rooms: delivery.rooms,
            except: delivery.except,
            targets: targets
        )
    }
}

extension Array where Element == UInt8 {
    /// Byte equality with a buffer, without building an array from it.
    func equals(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard count == bytes.count else { return false }
        guard count > 0 else { return true }
        return withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, count) == 0 }
    }
}
