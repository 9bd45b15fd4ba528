// Progress lines for long benchmark runs, on standard error.
//
// The figures go to standard output (tables and result lines that are pasted
// into bench/README.md); progress goes to standard error so that a run is
// never silent for minutes and the figures stay clean when redirected.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public struct BenchProgress {
    public let tool: String
    private let startedAt: UInt64

    public init(_ tool: String) {
        self.tool = tool
        startedAt = Self.now()
    }

    /// "tool [  12.3 s] text" on standard error.
    ///
    /// Standard output is flushed first: when it is a pipe (`tee`, run-all.sh)
    /// it is block-buffered, and the figures printed so far must come out
    /// before the next progress line, not at exit. (`fflush(nil)` flushes every
    /// stream; Swift 6 refuses to touch the C global `stdout` itself.)
    public func note(_ text: String) {
        fflush(nil)
        let seconds = Self.tenths(Self.now() - startedAt)
        let padded = String(repeating: " ", count: max(0, 6 - seconds.count)) + seconds
        var line = "\(tool) [\(padded) s] \(text)\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }

    /// Flushes the figures printed so far (see ``note(_:)``).
    public func flush() {
        fflush(nil)
    }

    /// Runs one phase between a "started" and a "done in" line.
    public func phase<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        note("\(name): started")
        let t0 = Self.now()
        let result = try body()
        note("\(name): done in \(Self.tenths(Self.now() - t0)) s")
        return result
    }

    /// Nanoseconds as seconds with one decimal, without Foundation: "12.3".
    static func tenths(_ nanoseconds: UInt64) -> String {
        let tenths = (nanoseconds + 50_000_000) / 100_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
