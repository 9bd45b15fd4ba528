import Foundation
public import Hiredis

/// A throw-away redis-server for one benchmark run: a free loopback port and
/// a Unix socket in a temporary directory, no persistence, killed at exit.
public final class BenchRedis {
    public let port: Int
    public let socketPath: String
    private let process = Process()
    private let directory: URL

    public init(extraArguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "socketbus-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = Self.freePort()
        socketPath = directory.appendingPathComponent("redis.sock").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments =
            [
                "--port", "\(port)", "--bind", "127.0.0.1", "--unixsocket", socketPath, "--save", "", "--appendonly",
                "no",
                "--logfile", "/dev/null",
            ] + extraArguments
        // Not the bench's own output: a server left running must not keep a pipe open.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if (try? RedisConnection(endpoint: .unix(path: socketPath))) != nil { return }
            usleep(10_000)
        }
        throw POSIXError(.ETIMEDOUT)
    }

    public var tcpURL: String { "redis://127.0.0.1:\(port)" }
    public var unixURL: String { "unix://\(socketPath)" }

    public func connect() throws -> RedisConnection { try RedisConnection(endpoint: .unix(path: socketPath)) }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    public var directoryPath: String { directory.path }

    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// CPU time of the calling thread, and of the whole process, in nanoseconds.
public enum CPUTime {
    public static var thread: UInt64 { read(CLOCK_THREAD_CPUTIME_ID) }
    public static var process: UInt64 { read(CLOCK_PROCESS_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Monotonic nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Percentile of sorted samples.
public func percentile(_ sorted: [UInt64], _ p: Double) -> UInt64 {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
