import Foundation

/// Starts a thread whose name the kernel knows too (`top -H`, `ps -L`,
/// /proc/<pid>/task/*/comm), so an operator can see which part of busd uses
/// the CPU (or which alert channel hangs). Linux keeps 15 bytes of a thread
/// name.
public func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
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
