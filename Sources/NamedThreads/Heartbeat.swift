import Foundation
import Synchronization

/// A long-lived thread's sign of progress, for the systemd watchdog: the
/// thread calls ``beat()`` on every turn of its loop (idle wake-ups
/// included), one clock read and one relaxed atomic store. A thread about to
/// wait on purpose for longer (a connect time-out, a back-off pause, one
/// alert delivery) says so with ``beat(quietFor:)``.
public final class Heartbeat: Sendable {
    public let name: String
    /// Monotonic nanoseconds until which silence is expected.
    private let quietUntil: Atomic<Int64>
    #if DEBUG
        private let park: String?
    #endif

    public init(name: String) {
        self.name = name
        quietUntil = Atomic(Self.now())
        #if DEBUG
            park = ParkForTests.file(for: name)
        #endif
    }

    @inline(__always)
    public func beat() {
        quietUntil.store(Self.now(), ordering: .relaxed)
        #if DEBUG
            if let park { ParkForTests.wait(whileExists: park) }
        #endif
    }

    /// The thread will block for up to `duration` by design, then beat again.
    public func beat(quietFor duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let quiet = nanoseconds.overflow ? Int64.max / 2 : nanoseconds.partialValue + attoseconds / 1_000_000_000
        quietUntil.store(Self.now() &+ max(0, min(quiet, Int64.max / 2)), ordering: .relaxed)
        #if DEBUG
            if let park { ParkForTests.wait(whileExists: park) }
        #endif
    }

    /// A fresh start: silence counts from now.
    fileprivate func reset() { quietUntil.store(Self.now(), ordering: .relaxed) }

    /// How long the thread has been silent beyond what it announced (zero if not).
    public func overdue(at now: Int64 = Heartbeat.now()) -> Duration {
        .nanoseconds(max(0, now &- quietUntil.load(ordering: .relaxed)))
    }

    /// CLOCK_MONOTONIC in nanoseconds (a vDSO call: no system call).
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}

/// The heartbeats of the threads running now.
public enum Heartbeats {
    private static let watched = Mutex<[ObjectIdentifier: Heartbeat]>([:])

    public static func watch(_ heartbeat: Heartbeat) {
        watched.withLock { $0[ObjectIdentifier(heartbeat)] = heartbeat }
    }

    public static func unwatch(_ heartbeat: Heartbeat) {
        _ = watched.withLock { $0.removeValue(forKey: ObjectIdentifier(heartbeat)) }
    }

    /// Threads silent for longer than `bound` beyond what they announced,
    /// the longest first.
    public static func stalled(longerThan bound: Duration) -> [(name: String, overdue: Duration)] {
        let now = Heartbeat.now()
        let all = watched.withLock { Array($0.values) }
        return all.map { ($0.name, $0.overdue(at: now)) }.filter { $0.1 > bound }.sorted { $0.1 > $1.1 }
    }

    /// The names of the threads watched now.
    public static var names: [String] { watched.withLock { $0.values.map(\.name) }.sorted() }
}

/// Starts a named thread whose `heartbeat` is watched while `body` runs.
public func startThread(named name: String, heartbeat: Heartbeat, _ body: @escaping @Sendable () -> Void) {
    heartbeat.reset()
    Heartbeats.watch(heartbeat)
    startThread(named: name) {
        body()
        Heartbeats.unwatch(heartbeat)
    }
}

#if DEBUG
    /// Debug builds only (what `swift test` runs): BUSD_TEST_PARK_THREAD=
    /// `<thread name>:<file>` parks that thread at its next beat for as long
    /// as the file exists, so a test can make a thread stop making progress.
    enum ParkForTests {
        static func file(for name: String) -> String? {
            guard let setting = ProcessInfo.processInfo.environment["BUSD_TEST_PARK_THREAD"],
                let colon = setting.firstIndex(of: ":"), setting[..<colon] == name
            else { return nil }
            return String(setting[setting.index(after: colon)...])
        }

        static func wait(whileExists path: String) {
            while access(path, F_OK) == 0 { usleep(20_000) }
        }
    }
#endif
