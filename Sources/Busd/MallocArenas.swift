import CMallocTuning

/// busd's threads share at most two glibc malloc arenas.
///
/// glibc gives each new thread its own arena (up to 8 per core) and an arena
/// keeps the pages of its highest use: under load every stall of the router
/// or a writer left one thread's peak resident for good, so busd's RSS rose in
/// steps (bench/README.md, "busd's resident memory"). Sharing two arenas, the
/// threads reuse each other's freed memory and RSS stays flat. Set before any
/// thread starts: a thread keeps the arena it was given.
enum MallocArenas {
    static let limit: Int32 = 2

    enum Outcome: Equatable, CustomStringConvertible {
        /// busd set the limit.
        case limited(Int32)
        /// The environment names its own (MALLOC_ARENA_MAX, or glibc.malloc.arena_max
        /// in GLIBC_TUNABLES): the operator's choice wins, busd leaves it.
        case leftToEnvironment(String)
        /// mallopt refused, or the C library is not glibc.
        case unavailable

        var description: String {
            switch self {
            case .limited(let arenas): "at most \(arenas) malloc arenas"
            case .leftToEnvironment(let source): "malloc arenas as \(source) says"
            case .unavailable: "malloc arenas left to the C library (no mallopt M_ARENA_MAX)"
            }
        }
    }

    /// Limits the arenas unless the environment already does.
    static func apply(environment: [String: String]) -> Outcome {
        if environment["MALLOC_ARENA_MAX"] != nil { return .leftToEnvironment("MALLOC_ARENA_MAX") }
        if let tunables = environment["GLIBC_TUNABLES"], tunables.contains("glibc.malloc.arena_max") {
            return .leftToEnvironment("GLIBC_TUNABLES")
        }
        return socketbus_malloc_set_arena_max(limit) == 1 ? .limited(limit) : .unavailable
    }

    /// The arenas in the process now (`socketbus_malloc_arenas`), nil where unreadable.
    static func count() -> Int? {
        let arenas = socketbus_malloc_arena_count()
        return arenas > 0 ? Int(arenas) : nil
    }
}
