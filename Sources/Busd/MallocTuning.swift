import CMallocTuning

/// busd's glibc malloc: its threads share at most two arenas, and blocks of
/// 128 KiB and over always get their own mapping.
///
/// glibc gives each new thread its own arena (up to 8 per core), and an arena
/// keeps the pages of its highest use: under load every stall of the router
/// or a writer left one thread's peak resident for good, so busd's RSS rose in
/// steps (bench/README.md, "busd's resident memory"). Sharing two arenas, the
/// threads reuse each other's freed memory. glibc also raises its mmap
/// threshold (up to 32 MiB) each time a mapped block is freed, which the
/// registry's columns do as they double while sockets arrive; after that,
/// buffers of megabytes (a stall's backlog) come from the arenas and stay
/// resident. A fixed threshold returns them to the system when freed.
/// Set before any thread starts: a thread keeps the arena it was given.
enum MallocTuning {
    static let arenaLimit: Int32 = 2
    /// glibc's own starting value, kept from moving.
    static let mmapThreshold: Int32 = 128 * 1024

    enum Choice: Equatable {
        /// busd set it.
        case set(Int32)
        /// The environment names its own: the operator's choice wins.
        case leftToEnvironment(String)
        /// mallopt refused, or the C library is not glibc.
        case unavailable
    }

    struct Outcome: Equatable, CustomStringConvertible {
        var arenas: Choice
        var mmapThreshold: Choice

        var description: String {
            let arenas =
                switch self.arenas {
                case .set(let limit): "at most \(limit) malloc arenas"
                case .leftToEnvironment(let source): "malloc arenas as \(source) says"
                case .unavailable: "malloc arenas left to the C library"
                }
            let threshold =
                switch mmapThreshold {
                case .set(let bytes): "mmap threshold fixed at \(bytes) B"
                case .leftToEnvironment(let source): "mmap threshold as \(source) says"
                case .unavailable: "mmap threshold left to the C library"
                }
            return "\(arenas); \(threshold)"
        }

        static let untouched = Outcome(arenas: .unavailable, mmapThreshold: .unavailable)
    }

    /// Sets both, each unless the environment already does (MALLOC_ARENA_MAX,
    /// MALLOC_MMAP_THRESHOLD_, or their names in GLIBC_TUNABLES).
    static func apply(environment: [String: String]) -> Outcome {
        func source(_ variable: String, tunable: String) -> String? {
            if environment[variable] != nil { return variable }
            if environment["GLIBC_TUNABLES"]?.contains(tunable) == true { return "GLIBC_TUNABLES" }
            return nil
        }
        var outcome = Outcome.untouched
        if let given = source("MALLOC_ARENA_MAX", tunable: "glibc.malloc.arena_max") {
            outcome.arenas = .leftToEnvironment(given)
        } else if socketbus_malloc_set_arena_max(arenaLimit) == 1 {
            outcome.arenas = .set(arenaLimit)
        }
        if let given = source("MALLOC_MMAP_THRESHOLD_", tunable: "glibc.malloc.mmap_threshold") {
            outcome.mmapThreshold = .leftToEnvironment(given)
        } else if socketbus_malloc_set_mmap_threshold(mmapThreshold) == 1 {
            outcome.mmapThreshold = .set(mmapThreshold)
        }
        return outcome
    }

    /// The arenas in the process now (`socketbus_malloc_arenas`), nil where unreadable.
    static func arenaCount() -> Int? {
        let arenas = socketbus_malloc_arena_count()
        return arenas > 0 ? Int(arenas) : nil
    }
}
