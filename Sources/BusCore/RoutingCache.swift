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
/// broadcast's rooms), reused for the next broadcast with the same rooms.
struct CachedSelection {
    var generation: UInt64
    var namespace: String
    var rooms: [Room]
    var except: [Room]
    var targets: [String]

    func matches(_ generation: UInt64, _ namespace: String, _ rooms: [Room], _ except: [Room]) -> Bool {
        self.generation == generation && self.rooms == rooms && self.except == except && self.namespace == namespace
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
