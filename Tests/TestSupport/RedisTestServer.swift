public import Foundation
import Glibc

/// A real `redis-server` started for a test, on a free loopback port and a
/// Unix socket in a private temporary directory, without persistence.
///
/// Stopped by ``stop()`` or when the value is released. Each test that needs
/// isolation starts its own; they are cheap (about 10 ms).
public final class RedisTestServer: @unchecked Sendable {
    // @unchecked: the mutable state (the process) is only touched by the
    // owning test, never concurrently.
    public let port: Int
    public let socketPath: String
    public let directory: URL
    public let extraArguments: [String]
    private var process: Process?

    public enum StartError: Error, CustomStringConvertible {
        case notInstalled
        case didNotStart(String)

        public var description: String {
            switch self {
            case .notInstalled: return "redis-server is not installed (run scripts/ensure-deps.sh)"
            case .didNotStart(let log): return "redis-server did not start: \(log)"
            }
        }
    }

    /// Starts the server and waits until it answers.
    public init(extraArguments: [String] = []) throws {
        guard let executable = Self.which("redis-server") else { throw StartError.notInstalled }
        self.extraArguments = extraArguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("busredis-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        socketPath = directory.appendingPathComponent("redis.sock").path
        var lastLog = ""
        for _ in 0..<5 {
            let port = try FreePort.find()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = Self.arguments(port: port, socketPath: socketPath, directory: directory) + extraArguments
            try process.run()
            if Self.waitUntilReady(socketPath: socketPath, process: process) {
                self.port = port
                self.process = process
                return
            }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            lastLog = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
        }
        throw StartError.didNotStart(String(lastLog.suffix(500)))
    }

    deinit { stop() }

    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Stops the server and removes its directory.
    ///
    /// SIGKILL, not SIGTERM: Foundation starts the child from a thread whose
    /// signal mask blocks SIGTERM, and the child inherits that mask. Nothing
    /// is persisted, so nothing is lost.
    public func stop() {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server again on the same port and socket (after ``kill()``):
    /// a Redis restart that lost all data.
    public func restart() throws {
        kill()
        try? FileManager.default.removeItem(atPath: socketPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.which("redis-server")!)
        process.arguments = Self.arguments(port: port, socketPath: socketPath, directory: directory) + extraArguments
        try process.run()
        guard Self.waitUntilReady(socketPath: socketPath, process: process) else {
            throw StartError.didNotStart("restart on port \(port) failed")
        }
        self.process = process
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing answers,
    /// the outage that only a time-out reveals.
    public func freeze() {
        if let process { Foundation.kill(process.processIdentifier, SIGSTOP) }
    }

    /// Resumes a frozen server (SIGCONT).
    public func thaw() {
        if let process { Foundation.kill(process.processIdentifier, SIGCONT) }
    }

    /// Kills the server abruptly (SIGKILL): what an outage looks like.
    public func kill() {
        guard let process else { return }
        self.process = nil
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGCONT)
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Loopback and a private Unix socket, no persistence, a log in the directory.
    private static func arguments(port: Int, socketPath: String, directory: URL) -> [String] {
        [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--unixsocket", socketPath, "--unixsocketperm", "700", "--dir", directory.path,
            "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
    }

    /// Ready means accepting: redis-server binds its socket file before it
    /// listens, so a file that exists can still refuse connections.
    private static func waitUntilReady(socketPath: String, process: Process) -> Bool {
        for _ in 0..<500 {
            if !process.isRunning { return false }
            if acceptsConnections(socketPath) { return true }
            usleep(10_000)
        }
        return false
    }

    private static func acceptsConnections(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    static func which(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in paths + ["/usr/sbin", "/usr/bin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Finds a TCP port on 127.0.0.1 that nothing listens on right now.
public enum FreePort {
    public static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(5), _ condition: () throws -> Bool) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
