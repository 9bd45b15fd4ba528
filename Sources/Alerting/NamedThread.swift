import Foundation

/// Starts a thread whose name the kernel knows too (`top -H`, `ps -L`), so
/// an operator can tell an alert channel stuck in a time-out from the bus.
/// Linux keeps 15 bytes of a thread name.
func startNamedThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        // pthread_setname_np is not visible from Swift's Glibc module;
        // /proc/thread-self/comm is the same name.
        if let comm = FileHandle(forWritingAtPath: "/proc/thread-self/comm") {
            comm.write(Data(name.utf8.prefix(15)))
            try? comm.close()
        }
        body()
    }
    thread.name = name
    thread.start()
}

extension Duration {
    /// Whole milliseconds, for libcurl options and log lines.
    var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
