import Foundation
import Logging

/// sd_notify(3) without libsystemd: one datagram per state change to the
/// Unix socket systemd names in `$NOTIFY_SOCKET` (`@name`: an abstract one).
/// Without the variable (not under Type=notify) every call does nothing.
struct SystemdNotifier: Sendable {
    private let address: [UInt8]?
    /// Half of `$WATCHDOG_USEC` when the watchdog is on for this process.
    let watchdogInterval: Duration?

    init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"] ?? ""
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        // sun_path holds 108 bytes; a longer name cannot be addressed.
        address = (bytes.count >= 2 && bytes.count < 108 && (bytes[0] == 0 || bytes[0] == UInt8(ascii: "/"))) ? bytes : nil
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forUs, let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec >= 2, usec < 86_400_000_000 {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    var isEnabled: Bool { address != nil }

    /// Sends `state` (`READY=1`, `STOPPING=1`, ...); false when not sent.
    @discardableResult
    func notify(_ state: String) -> Bool {
        guard let address else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { path in
            for (index, byte) in address.enumerated() where index < path.count { path[index] = byte }
        }
        // An abstract name's length counts exactly its bytes, no terminator.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count + (address[0] == 0 ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                // Never waits: a notify socket nobody reads (its queue holds
                // net.unix.max_dgram_qlen datagrams) must not hold up the watchdog thread.
                message.withUnsafeBytes {
                    sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT), generic, length)
                }
            }
        }
        return sent == message.count
    }
}
