public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real server written in Python (Tests/Sinks/*.py) started for a test:
/// an SMTP server (aiosmtpd) or an HTTP listener that records what it
/// receives as JSON lines.
///
/// The script prints `PORT <n>` when it accepts connections and exits when
/// its standard input closes, so it dies with the test process. `python3`
/// comes from PATH (`make test` puts the project's .venv first). A missing
/// interpreter or module is a start error with the script's own message:
/// the test fails, it is not skipped.
public final class PythonSink: @unchecked Sendable {
    // @unchecked: the process is only touched by the owning test.
    public let port: Int
    /// One JSON object per line, one line per message or request received.
    public let recordsFile: URL
    public let directory: URL
    private let process: Process
    private let input: Pipe

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts Tests/Sinks/`script` with `arguments` plus `--out <records file>`.
    public init(script: String, arguments: [String], timeout: Duration = .seconds(15)) throws {
        guard let python = RedisTestServer.which("python3") else {
            throw StartError(description: "python3 is not on PATH (make test puts .venv/bin first)")
        }
        let scriptURL = Self.sinksDirectory.appendingPathComponent(script)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        recordsFile = directory.appendingPathComponent("records.jsonl")
        let errorFile = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)

        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptURL.path] + arguments + ["--out", recordsFile.path]
        let output = Pipe()
        input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()

        let line = Self.readLine(output.fileHandleForReading.fileDescriptor, timeout: timeout)
        guard let line, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let log = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: directory)
            throw StartError(description: "\(script) did not start (\(python)): \(log.isEmpty ? "no output" : log)")
        }
        self.port = port
    }

    deinit { stop() }

    /// Tests/Sinks, found from this file's path.
    public static var sinksDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Sinks"
        )
    }

    /// What the sink recorded so far, oldest first.
    public func records() -> [[String: Any]] {
        guard let text = try? String(contentsOf: recordsFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Closes the sink's standard input (it exits) and makes sure it is gone.
    public func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            for _ in 0..<50 where process.isRunning { usleep(10_000) }
            // SIGKILL, not SIGTERM: Foundation's children inherit a mask blocking SIGTERM.
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func readLine(_ fd: Int32, timeout: Duration) -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var bytes: [UInt8] = []
        while clock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) >= 0 else { return nil }
            if pfd.revents == 0 { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, made with the
/// `openssl` command in a temporary directory: the test's own CA.
public final class SelfSignedCertificate: Sendable {
    public let directory: URL
    public let certificatePath: String
    public let keyPath: String

    public init() throws {
        guard let openssl = RedisTestServer.which("openssl") else {
            throw PythonSink.StartError(description: "openssl is not installed")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cert-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificatePath = directory.appendingPathComponent("cert.pem").path
        keyPath = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyPath, "-out", certificatePath,
        ]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonSink.StartError(description: "openssl req failed with status \(process.terminationStatus)")
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

/// A TCP port that accepts connections (the kernel completes them) and
/// never says a word: a mail server that hangs before its greeting.
public final class SilentListener: @unchecked Sendable {
    // @unchecked: the descriptor is only closed once, by deinit.
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
