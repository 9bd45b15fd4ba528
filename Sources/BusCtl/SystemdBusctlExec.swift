import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension BusctlRoute {
    /// The route of this process's command line. A copy of ours that
    /// another copy passed a command line on to (both on PATH) passes it
    /// on again: it was already judged to be systemd's, `--systemd` stripped.
    static func ofThisProcess() -> BusctlRoute {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if ProcessInfo.processInfo.environment[SystemdBusctl.skipVariable] != nil { return .systemd(arguments) }
        return route(arguments)
    }
}

/// Runs systemd's busctl in place of this process (see BusctlRoute).
enum SystemdBusctl {
    /// Real paths of socketbus busctl copies already passed through, so two
    /// copies on PATH cannot hand a command line back and forth.
    static let skipVariable = "SOCKETBUS_BUSCTL_SKIP"
    /// Where Debian and most distributions put it, when PATH does not lead there.
    static let fallbacks = ["/usr/bin/busctl", "/bin/busctl"]

    /// The first executable `busctl` in `path` (then `fallbacks`) whose real
    /// path is not in `skipping`.
    static func locate(path: String, fallbacks: [String] = fallbacks, skipping: Set<String>) -> String? {
        let directories = path.split(separator: ":", omittingEmptySubsequences: false).map {
            $0.isEmpty ? "." : String($0)
        }
        let candidates = directories.map { $0 + "/busctl" } + fallbacks
        return candidates.first { candidate in
            guard access(candidate, X_OK) == 0, let real = realPath(candidate) else { return false }
            return !skipping.contains(real)
        }
    }

    /// Replaces this process with systemd's busctl, or exits with 127 (not
    /// found) or 126 (cannot run it) as a shell would.
    static func run(_ arguments: [String]) -> Never {
        let environment = ProcessInfo.processInfo.environment
        var skipping = Set((environment[skipVariable] ?? "").split(separator: ":").map(String.init))
        if let me = realPath("/proc/self/exe") { skipping.insert(me) }
        guard let target = locate(path: environment["PATH"] ?? "/usr/bin:/bin", skipping: skipping) else {
            printError(
                "busctl: these arguments are for systemd's busctl (the D-Bus tool), which is not installed here.\n"
                    + "This is socketbus's busctl: 'busctl --help' lists its commands; 'busctl --socketbus ...' forces it."
            )
            Foundation.exit(127)
        }
        setenv(skipVariable, skipping.sorted().joined(separator: ":"), 1)
        let argv = (["busctl"] + arguments).map { strdup($0) } + [nil]
        execv(target, argv)
        printError("busctl: cannot run systemd's busctl at \(target): \(String(cString: strerror(errno)))")
        Foundation.exit(126)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
