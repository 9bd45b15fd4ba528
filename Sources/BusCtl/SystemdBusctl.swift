/// systemd ships its own `busctl` (the D-Bus tool, /usr/bin/busctl on
/// Debian). Ours is installed ahead of it on PATH (`make install`), so a
/// command line meant for systemd's tool arrives here: those are recognised
/// and handed on to systemd's busctl unchanged; `--systemd` / `--socketbus`
/// as the first argument force either.
enum BusctlRoute: Equatable {
    /// Ours, with these arguments.
    case socketbus([String])
    /// systemd's, with these arguments.
    case systemd([String])

    /// Our verbs; `status`, `emit` and `help` are systemd's too.
    static let socketbusVerbs: Set<String> = [
        "inspect", "find-socket", "nodes", "emit", "acks", "alert-test", "status", "help", "sockets", "rooms", "join",
        "leave", "disconnect",
    ]
    /// Verbs only systemd's busctl has.
    static let systemdVerbs: Set<String> = [
        "list", "monitor", "capture", "tree", "introspect", "call", "get-property", "set-property", "wait",
    ]
    /// Options only systemd's busctl has (bus selection, output, call
    /// behaviour). Not --timeout, --verbose or --quiet: ours may use those.
    static let systemdOptions: Set<String> = [
        "--user", "--system", "--host", "--machine", "--address", "--show-machine", "--unique", "--acquired",
        "--activatable", "--match", "--size", "--list", "--xml-interface", "--expect-reply", "--auto-start",
        "--allow-interactive-authorization", "--augment-creds", "--watch-bind", "--destination", "--no-pager",
        "--no-legend", "--full", "--limit-messages", "-l", "-j", "-N",
    ]
    /// Our options that take a value as the next argument (status --http x).
    static let socketbusValueOptions: Set<String> = ["--http", "--config"]

    /// Which busctl a command line is for.
    static func route(_ arguments: [String]) -> BusctlRoute {
        guard let first = arguments.first else { return .socketbus([]) }
        if first == "--socketbus" { return .socketbus(Array(arguments.dropFirst())) }
        if first == "--systemd" { return .systemd(Array(arguments.dropFirst())) }
        guard let verbIndex = arguments.firstIndex(where: { !$0.hasPrefix("-") }) else {
            // Options only: `busctl --user` lists systemd's buses; --help and --version are ours.
            return arguments.contains(where: isSystemdOption) ? .systemd(arguments) : .socketbus(arguments)
        }
        let verb = arguments[verbIndex]
        let before = arguments[..<verbIndex]
        let after = Array(arguments[(verbIndex + 1)...])
        if systemdVerbs.contains(verb) || before.contains(where: isSystemdOption) { return .systemd(arguments) }
        switch verb {
        case "status":
            // Ours takes no positional argument; systemd's takes a bus name.
            let systemd = after.contains(where: isSystemdOption) || !positionals(after).isEmpty
            return systemd ? .systemd(arguments) : .socketbus(arguments)
        case "emit":
            // systemd's: emit OBJECT-PATH INTERFACE SIGNAL ...; ours: emit EVENT [JSON ...]
            let words = positionals(after)
            let systemd = words.count >= 3 && isObjectPath(words[0]) && isInterfaceName(words[1])
            return systemd ? .systemd(arguments) : .socketbus(arguments)
        case "help":
            return after.first.map(systemdVerbs.contains) == true ? .systemd(arguments) : .socketbus(arguments)
        default:
            return .socketbus(arguments)
        }
    }

    static func isSystemdOption(_ argument: String) -> Bool {
        let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
        if systemdOptions.contains(name) { return true }
        // --json=MODE is systemd's; ours is a plain --json flag.
        if name == "--json" && argument.contains("=") { return true }
        // -H HOST, -M MACHINE, also glued: -Hhost, -Mroot@.host.
        return argument.hasPrefix("-H") || argument.hasPrefix("-M")
    }

    private static func positionals(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var skipValue = false
        for argument in arguments {
            if skipValue {
                skipValue = false
            } else if socketbusValueOptions.contains(argument) {
                skipValue = true
            } else if !argument.hasPrefix("-") {
                result.append(argument)
            }
        }
        return result
    }

    /// A D-Bus interface name: two or more dot-separated elements, `org.freedesktop.DBus`.
    static func isInterfaceName(_ text: String) -> Bool {
        let elements = text.split(separator: ".", omittingEmptySubsequences: false)
        return elements.count >= 2
            && elements.allSatisfy { element in
                element.first.map { !$0.isNumber } == true
                    && element.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            }
    }

    /// A D-Bus object path: `/` or `/a/b_c/D0`.
    static func isObjectPath(_ text: String) -> Bool {
        guard text.hasPrefix("/") else { return false }
        if text == "/" { return true }
        let elements = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return elements.allSatisfy { element in
            !element.isEmpty && element.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
    }
}
