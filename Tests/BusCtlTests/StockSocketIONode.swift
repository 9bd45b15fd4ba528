import Foundation

/// A real stock Socket.IO 4.8.1 server with @socket.io/redis-adapter 8.3.0
/// (Tests/StockPeers/stock-node.js, packages from ../shared/stock-socketio)
/// and `count` real socket.io-client sockets on it, each in room "lobby".
final class StockSocketIONode {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    private let input = Pipe()
    /// The ids of its client sockets, in connection order.
    let socketIds: [String]

    static var packages: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("../shared/stock-socketio/node_modules")
            .standardizedFileURL
    }

    init(redisPort: Int, count: Int = 2) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("StockPeers/stock-node.js")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["node", script.path, "\(redisPort)", "\(count)"]
        var environment = ProcessInfo.processInfo.environment
        environment["NODE_PATH"] = "\(Self.packages.path):/usr/share/nodejs"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        // The first line says its sockets are connected; EOF (it failed) ends the read.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
            let ids = object["ids"] as? [String], ids.count == count
        else {
            process.terminate()
            process.waitUntilExit()
            throw Failure(description: "stock node did not start: \(String(decoding: line, as: UTF8.self))")
        }
        socketIds = ids
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}
