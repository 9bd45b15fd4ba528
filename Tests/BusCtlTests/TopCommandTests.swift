import Foundation
import Hiredis
import Testing
import TestSupport

/// `busctl top` on a real busd and redis-server: in a terminal (tmux, 120x40)
/// and with standard output a pipe (plain lines).
@Suite("busctl top", .serialized)
struct TopCommandTests {
    /// A tmux server of the test's own.
    final class Tmux {
        /// The server's socket: a tmux of the test's own, that nothing else's is touched.
        let socketPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("busctl-top-\(getpid())-\(UUID().uuidString.prefix(6)).tmux").path

        /// Not through Foundation's Process: the server tmux forks would keep
        /// the descriptor Process learns the exit from (and the test runner's
        /// blocked signals, which kill-server needs).
        init(command: String) throws {
            let arguments =
                [try Self.executable().path, "-S", socketPath, "-f", "/dev/null", "new-session", "-d"]
                + ["-x", "120", "-y", "40", "-s", "top", command]
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for fd in Int32(0)...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
            // glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift does not import.
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { throw POSIXError(.ENOSYS) }
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
            let argv = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ) == 0 else {
                throw POSIXError(.ECHILD)
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            guard status == 0 else { throw POSIXError(.ECHILD) }
        }

        static func executable() throws -> URL {
            guard
                let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first(where: FileManager.default.isExecutableFile)
            else {
                Issue.record("tmux is not installed (scripts/ensure-deps.sh installs it)")
                throw POSIXError(.ENOENT)
            }
            return URL(fileURLWithPath: tmux)
        }

        @discardableResult
        func run(_ arguments: [String]) throws -> InspectCommandTests.Result {
            try InspectCommandTests.run(
                ["-S", socketPath, "-f", "/dev/null"] + arguments,
                executable: try Self.executable()
            )
        }

        var screen: String { (try? run(["capture-pane", "-p", "-t", "top"]))?.stdout ?? "" }
        var isAlternateScreenOn: Bool {
            (try? run(["display-message", "-p", "-t", "top", "#{alternate_on}"]))?.stdout.hasPrefix("1") ?? false
        }

        deinit {
            _ = try? run(["kill-server"])
            unlink(socketPath)
        }
    }

    /// The figures of one rate line: per second (nil at the first read) and the total.
    static func rate(_ title: String, on screen: String) -> (perSecond: Double?, total: Double)? {
        guard let line = screen.split(separator: "\n").first(where: { $0.hasPrefix(title + " ") }) else { return nil }
        let fields = line.dropFirst(title.count).split(separator: " ")
        guard fields.count >= 2, let total = Double(fields[1]) else { return nil }
        return (Double(fields[0]), total)
    }

    static func publish(_ busd: DeliveryCommandTests.RunningBusd, count: Int) throws {
        let redis = try RedisConnection(endpoint: .unix(path: busd.server.socketPath))
        for _ in 0..<count {
            _ = try redis.command([
                Array("PUBLISH".utf8), Array("socket.io#/#".utf8),
                UnframableMessageTests.emitterBroadcast("tick", text: 3),
            ])
        }
    }

    /// What the shell in the pane runs: busctl top (its pid written to
    /// `pidFile`), then what the terminal is like after it.
    static func paneCommand(_ arguments: [String], pidFile: String = "/dev/null") -> String {
        let quoted = ([InspectCommandTests.binary.path, "top"] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return "trap '' INT; sh -c 'echo $$ > \(pidFile); exec \"$0\" \"$@\"' \(quoted); echo \"busctl exited $?\"; "
            + "stty -a | tr ' ;' '\\n\\n' | grep -x -- '-*\\(icanon\\|echo\\)'; sleep 20"
    }

    @Test func theViewShowsTheFiguresTheRatesMoveAndQRestoresTheTerminal() throws {
        let port = try FreePort.find()
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: ["--http", "127.0.0.1:\(port)"])
        busd.connect("sock-top")
        #expect(busd.waitRegistered("sock-top"))
        let tmux = try Tmux(command: Self.paneCommand(["--http", "127.0.0.1:\(port)", "--redis", busd.server.url]))
        #expect(
            eventually(timeout: .seconds(10)) {
                let screen = tmux.screen
                return screen.contains("state: ready") && screen.contains("sockets (registry): 1: sock-top")
            },
            "\(tmux.screen)"
        )
        let screen = tmux.screen
        #expect(screen.contains("busctl top  busd 127.0.0.1:\(port)  node web-1"))
        #expect(screen.contains("redis: connected, reconnects 0, data loss 0"))
        #expect(screen.contains("node link: 1 connection(s), 1 socket(s)"))
        #expect(screen.contains("CLUSTER NODES: 1 registered, 1 alive"))
        #expect(screen.split(separator: "\n").contains { $0.hasPrefix("web-1  alive") })
        #expect(Self.rate("messages in", on: screen)?.total == 0)
        #expect(tmux.isAlternateScreenOn)

        try Self.publish(busd, count: 40)
        // The refresh after the messages shows them as a rate, the next ones at rest again.
        #expect(
            eventually(timeout: .seconds(5)) {
                guard let rate = Self.rate("messages in", on: tmux.screen), let perSecond = rate.perSecond else {
                    return false
                }
                return perSecond > 0 && rate.total == 40
            },
            "\(tmux.screen)"
        )
        #expect(
            eventually(timeout: .seconds(5)) {
                let screen = tmux.screen
                guard let delivered = Self.rate("delivered", on: screen) else { return false }
                return delivered.perSecond == 0 && delivered.total == 40
                    && Self.rate("messages in", on: screen)?.perSecond == 0
            },
            "\(tmux.screen)"
        )
        let bars = tmux.screen.split(separator: "\n").first { $0.hasPrefix("messages in ") } ?? ""
        #expect(bars.contains("█") && bars.contains("▁"), "\(bars)")

        try tmux.run(["send-keys", "-t", "top", "q"])
        #expect(eventually(timeout: .seconds(5)) { tmux.screen.contains("busctl exited 0") }, "\(tmux.screen)")
        let after = tmux.screen
        #expect(!tmux.isAlternateScreenOn)
        // stty lists icanon and echo without '-' again: the terminal is as it was.
        #expect(after.contains("\nicanon\n") && after.contains("\necho\n"), "\(after)")
        #expect(!after.contains("-icanon") && !after.contains("-echo\n"), "\(after)")
    }

    @Test(arguments: ["SIGINT", "SIGTERM"])
    func aSignalRestoresTheTerminalToo(_ signal: String) throws {
        let port = try FreePort.find()
        let redisPort = try FreePort.find()
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("busctl-top-\(UUID()).pid").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        // No busd and no Redis there: the errors are in the view, busctl runs on.
        let tmux = try Tmux(
            command: Self.paneCommand(
                ["--http", "127.0.0.1:\(port)", "--redis", "redis://127.0.0.1:\(redisPort)"],
                pidFile: pidFile
            )
        )
        #expect(
            eventually(timeout: .seconds(10)) {
                let screen = tmux.screen
                return screen.contains("busd: UNREACHABLE: cannot connect to 127.0.0.1:\(port)")
                    && screen.contains("CLUSTER NODES: registry unreadable:")
            },
            "\(tmux.screen)"
        )
        #expect(tmux.isAlternateScreenOn)
        if signal == "SIGINT" {
            try tmux.run(["send-keys", "-t", "top", "C-c"])
        } else {
            let text = (try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""
            guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                Issue.record("no pid in \(pidFile): '\(text)'")
                return
            }
            kill(pid, SIGTERM)
        }
        let status = signal == "SIGINT" ? 130 : 143
        #expect(eventually(timeout: .seconds(5)) { tmux.screen.contains("busctl exited \(status)") }, "\(tmux.screen)")
        #expect(!tmux.isAlternateScreenOn)
        #expect(tmux.screen.contains("\nicanon\n") && tmux.screen.contains("\necho\n"), "\(tmux.screen)")
    }

    @Test func withoutATerminalEachRefreshIsABlockOfPlainLines() throws {
        let port = try FreePort.find()
        let busd = try DeliveryCommandTests.RunningBusd(extraArguments: ["--http", "127.0.0.1:\(port)"])
        busd.connect("sock-plain")
        #expect(busd.waitRegistered("sock-plain"))
        let result = try InspectCommandTests.run([
            "top", "--count", "3", "--interval", "200ms", "--http", "127.0.0.1:\(port)", "--redis", busd.server.url,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1b}") && !result.stdout.contains("█") && !result.stdout.contains("▁"))
        let blocks = result.stdout.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(blocks.count == 3, "\(result.stdout)")
        for block in blocks {
            #expect(block.hasPrefix("busctl top  busd 127.0.0.1:\(port)  node web-1"))
            #expect(block.contains("\nstate: ready\n"))
            #expect(block.contains("\nsockets (registry): 1: sock-plain\n"))
        }
        // The first read has no rate yet; the next ones have.
        let first = Self.rate("messages in", on: blocks[0])
        #expect(first != nil && first?.perSecond == nil, "\(blocks[0])")
        let third = Self.rate("messages in", on: blocks[2])
        #expect(third?.perSecond == 0 && third?.total == 0, "\(blocks[2])")
    }

    @Test func withoutATerminalUnreachableBusdAndRedisAreShownAndExitOne() throws {
        let port = try FreePort.find()
        let redisPort = try FreePort.find()
        let result = try InspectCommandTests.run([
            "top", "--count", "2", "--interval", "100ms", "--http", "127.0.0.1:\(port)", "--redis",
            "redis://127.0.0.1:\(redisPort)",
        ])
        #expect(result.status == 1)
        #expect(
            result.stdout.components(separatedBy: "busd: UNREACHABLE: cannot connect to 127.0.0.1:\(port)").count == 3
        )
        #expect(result.stdout.contains("CLUSTER NODES: registry unreadable:"), "\(result.stdout)")
        let usage = try InspectCommandTests.run(["top", "--count", "0"])
        #expect(usage.status == 64 && usage.stderr.contains("--count must be at least 1"))
    }
}
