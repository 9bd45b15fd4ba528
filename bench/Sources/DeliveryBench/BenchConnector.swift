// delivery-bench's stand-in for the node's connector, and per-thread CPU.

import BenchSupport
import Foundation
import LocalProtocol

/// Reads DELIVER frames and stamps each message's arrival by its sequence number.
final class BenchConnector: @unchecked Sendable {
    let fd: Int32
    var arrivals: [UInt64]
    var delivered = 0
    let done = DispatchSemaphore(value: 0)
    var expected = Int.max
    /// This thread's CPU time when the expected count was reached.
    var cpuAtDone: UInt64 = 0

    init(path: String, capacity: Int) throws {
        arrivals = [UInt64](repeating: 0, count: capacity)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ frame: LocalFrame) {
        guard let bytes = try? frame.encoded else { return }  // the bench sends small frames only
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Frames are walked by their length prefix; only DELIVER's packet is
    /// looked at (for the sequence number after `["tick",`).
    func run() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            var offset = 0
            let now = monotonicNanoseconds()
            while buffer.count - offset >= 4 {
                let length = Int(buffer[offset]) << 24 | Int(buffer[offset + 1]) << 16 | Int(buffer[offset + 2]) << 8 | Int(buffer[offset + 3])
                guard buffer.count - offset - 4 >= length else { break }
                if buffer[offset + 4] == 0x20, let seq = Self.sequence(buffer, frameStart: offset + 5), seq < arrivals.count {
                    arrivals[seq] = now
                    delivered += 1
                    if delivered == expected {
                        cpuAtDone = CPUTime.thread
                        done.signal()
                    }
                }
                offset += 4 + length
            }
            buffer.removeFirst(offset)
        }
    }

    static func sequence(_ b: [UInt8], frameStart: Int) -> Int? {
        var i = frameStart + 8 + 1  // ack id, flags
        let nspLength = Int(b[i]) << 8 | Int(b[i + 1])
        i += 2 + nspLength
        let count = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
        i += 4
        for _ in 0..<count { i += 2 + (Int(b[i]) << 8 | Int(b[i + 1])) }
        i += 4  // packet length
        // Packet: 2["tick",<seq>,...
        i += 9
        var seq = 0
        while b[i] >= 0x30 && b[i] <= 0x39 {
            seq = seq * 10 + Int(b[i] - 0x30)
            i += 1
        }
        return seq
    }
}

/// CPU seconds per thread name, from /proc (clock ticks of 10 ms).
func threadCPU() -> [String: Double] {
    var result: [String: Double] = [:]
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    for tid in tasks {
        guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        result[comm.trimmingCharacters(in: .whitespacesAndNewlines), default: 0] += (user + system) / 100
    }
    return result
}
