// cluster-bench's stand-in for the node: a local-protocol client that sends
// frames and reads whatever busd sends, counting frames by type.

import Foundation
import LocalProtocol

/// One connection to busd's node link. A reader thread drains the socket so
/// busd never holds frames back for a slow node.
final class BenchNode: @unchecked Sendable {
    let fd: Int32
    private let lock = NSLock()
    private var counts: [UInt8: Int] = [:]
    private var errors: [String] = []
    private var finished = DispatchSemaphore(value: 0)

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        let thread = Thread { [self] in run() }
        thread.start()
    }

    func send(_ frames: [LocalFrame]) {
        var bytes: [UInt8] = []
        for frame in frames { if let encoded = try? frame.encoded { bytes += encoded } }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Frames of `type` received so far.
    func count(_ type: UInt8) -> Int { lock.withLock { counts[type] ?? 0 } }
    var errorMessages: [String] { lock.withLock { errors } }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        _ = finished.wait(timeout: .now() + 2)
        Foundation.close(fd)
    }

    private func run() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            var offset = 0
            while buffer.count - offset >= 5 {
                let length =
                    Int(buffer[offset]) << 24 | Int(buffer[offset + 1]) << 16 | Int(buffer[offset + 2]) << 8
                    | Int(buffer[offset + 3])
                guard buffer.count - offset - 4 >= length else { break }
                let type = buffer[offset + 4]
                lock.withLock {
                    counts[type, default: 0] += 1
                    if type == 0x03 {
                        errors.append(
                            String(decoding: buffer[(offset + 5)..<(offset + 4 + length)].dropFirst(4), as: UTF8.self)
                        )
                    }
                }
                offset += 4 + length
            }
            buffer.removeFirst(offset)
        }
        finished.signal()
    }
}

/// The node's sockets: `count` sockets in namespace "/", each in its own id
/// room and in one of `rooms` shared rooms ("room-0" …), typed (version 2)
/// or by name (version 1).
struct BenchSockets {
    let count: Int
    let rooms: Int

    func id(_ i: Int) -> String {
        let digits = String(i)
        return "benchSocket" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
    }

    func room(_ i: Int) -> String { "room-\(i % rooms)" }

    /// The frames a node sends after WELCOME.
    func frames(version: UInt16) -> [LocalFrame] {
        var frames: [LocalFrame] = version >= 2 ? [.namespace("/")] : []
        frames.reserveCapacity(2 * count + 1)
        for i in 0..<count {
            frames.append(.socketConnect(namespace: "/", socketId: id(i), connectedAt: 1))
            if version >= 2 {
                frames.append(.roomsJoin(namespace: "/", socketId: id(i), rooms: [.name(id(i)), .name(room(i))]))
            } else {
                frames.append(.socketJoin(namespace: "/", socketId: id(i), rooms: [id(i), room(i)]))
            }
        }
        return frames
    }
}

/// CPU microseconds of the threads named `name` in this process, from /proc
/// (clock ticks of 10 ms).
func threadCPUMicroseconds(named name: String) -> Double {
    var total = 0.0
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    for tid in tasks {
        guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
            comm.trimmingCharacters(in: .whitespacesAndNewlines) == name,
            let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        total += (user + system) * 10_000
    }
    return total
}
