import BusCore
import CBuildInfo
import ArgumentParser
import Foundation
import StatusHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// The standard `process_*` metrics, read from /proc/self at each scrape
/// (Linux only; elsewhere, and on anything unreadable, the sample is left out).
struct ProcessMetrics: Equatable {
    var cpuSeconds: Double?
    var residentBytes: Double?
    var openFileDescriptors: Int?
    var startTimeSeconds: Double?

    static func read() -> ProcessMetrics {
        var metrics = ProcessMetrics()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), ticks > 0 {
            // Fields after the command name (which may hold spaces and parentheses).
            if let close = stat.lastIndex(of: ")") {
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                // fields[0] is field 3 (state): utime 14, stime 15, starttime 22, rss 24.
                if fields.count > 21, let user = Double(fields[11]), let system = Double(fields[12]) {
                    metrics.cpuSeconds = (user + system) / ticks
                    if let start = Double(fields[19]), let boot = bootTime() {
                        metrics.startTimeSeconds = boot + start / ticks
                    }
                    if let pages = Double(fields[21]), pageSize > 0 { metrics.residentBytes = pages * pageSize }
                }
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // Less the descriptor the listing itself held open.
            metrics.openFileDescriptors = max(0, entries.count - 1)
        }
        return metrics
    }

    /// Boot time (Unix seconds) from /proc/stat's `btime`.
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    func add(to page: inout PrometheusText) {
        if let cpuSeconds {
            page.add(
                "process_cpu_seconds_total",
                .counter,
                help: "Total user and system CPU time spent in seconds.",
                value: cpuSeconds
            )
        }
        if let residentBytes {
            page.add(
                "process_resident_memory_bytes",
                .gauge,
                help: "Resident memory size in bytes.",
                value: residentBytes
            )
        }
        if let openFileDescriptors {
            page.add("process_open_fds", .gauge, help: "Number of open file descriptors.", value: openFileDescriptors)
        }
        if let startTimeSeconds {
            page.add(
                "process_start_time_seconds",
                .gauge,
                help: "Start time of the process since unix epoch in seconds.",
                value: startTimeSeconds
            )
        }
    }
}

/// What `socketbus_build_info` reports.
enum BuildInfo {
    static let version = SocketBusVersion.string
    /// BUSD_BUILD_COMMIT when busd was built (the Makefile sets it), else `unknown`.
    static let commit = String(cString: socketbus_build_commit())
    /// What `busd --version` prints: `0.1.0 (commit 1a2b3c4d5e6f)`.
    static var versionLine: String { "\(version) (commit \(commit))" }
}
