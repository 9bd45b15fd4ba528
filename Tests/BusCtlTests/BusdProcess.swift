import Foundation
import Synchronization

/// A real busd whose standard error is collected as it is written.
final class CollectedBusd: Sendable {
    let process: Process
    private let collected = Collected()

    init(arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = InspectCommandTests.binary.deletingLastPathComponent().appendingPathComponent("busd")
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let collected = self.collected
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            collected.bytes.withLock { $0.append(data) }
        }
        self.process = process
        try process.run()
    }

    var stderr: String { collected.bytes.withLock { String(decoding: $0, as: UTF8.self) } }
    var lines: [String] { stderr.split(separator: "\n").map(String.init) }

    /// SIGTERM, then waits for the exit (and the last lines).
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        Thread.sleep(forTimeInterval: 0.2)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

private final class Collected: Sendable {
    let bytes = Mutex<Data>(Data())
}
