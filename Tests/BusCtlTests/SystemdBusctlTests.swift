import BusCore
import Foundation
import Testing

@testable import BusCtl

/// systemd's busctl shares our name: command lines meant for it are passed
/// on (issue 12, item 11). Runs the built busctl with systemd's real
/// /usr/bin/busctl, and with a stand-in first on PATH that echoes its arguments.
@Suite("busctl and systemd's busctl")
struct SystemdBusctlTests {
    static let systemdBusctl = "/usr/bin/busctl"
    static let hasSystemdBusctl = FileManager.default.isExecutableFile(atPath: systemdBusctl)

    @Test(arguments: [
        // systemd's verbs and options
        ["list"], ["monitor", "org.foo"], ["tree"], ["introspect", "org.freedesktop.DBus", "/"],
        ["call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListNames"],
        ["get-property", "a.b", "/a", "a.b", "P"], ["wait", "/a", "a.b", "S"], ["status", "org.freedesktop.systemd1"],
        ["status", ":1.23"], ["--user", "status"], ["status", "--user"], ["-H", "host", "status"],
        ["-Mroot@.host", "list"],
        ["--address=unix:path=/run/dbus/system_bus_socket", "tree"], ["emit", "/org/x", "org.x.Iface", "Signal"],
        ["emit", "/", "org.x.Iface", "Signal", "s", "hi"], ["--user"], ["--no-pager", "list"], ["help", "list"],
        ["status", "--json=short"],
    ])
    func systemdCommandLinesGoToSystemd(_ arguments: [String]) {
        #expect(BusctlRoute.route(arguments) == .systemd(arguments))
    }

    @Test(arguments: [
        // ours, including the verbs both have
        [], ["--help"], ["-h"], ["--version"], ["help"], ["help", "emit"], ["nodes"], ["find-socket", "-abc"],
        ["status"], ["status", "--http", "127.0.0.1:9477"], ["status", "--config", "busd.yaml", "--raw"],
        ["status", "--json"], ["emit", "news", "{}", "--to", "room1"], ["emit", "/x", "\"a.b\"", "1"],
        ["emit", "news", "--timeout", "5s", "--wait-ack"], ["inspect", "--channel", "socket.io#/#"],
        ["acks", "--follow"],
        ["alert-test"], ["no-such-verb"],
    ])
    func ourCommandLinesStayHere(_ arguments: [String]) {
        #expect(BusctlRoute.route(arguments) == .socketbus(arguments))
    }

    @Test func theFirstArgumentForcesEither() {
        #expect(BusctlRoute.route(["--systemd", "status"]) == .systemd(["status"]))
        #expect(BusctlRoute.route(["--socketbus", "status", "org.x"]) == .socketbus(["status", "org.x"]))
    }

    @Test func locatingSkipsOurselvesAndGivesUpWithoutSystemds() throws {
        let dir = try Self.temporaryDirectory()
        let ours = try Self.install(InspectCommandTests.binary, in: dir.appendingPathComponent("ours"))
        let fake = try Self.fakeSystemdBusctl(in: dir.appendingPathComponent("fake"))
        let skipping: Set = [try #require(SystemdBusctl.realPath(ours.path))]
        let path = "\(dir.path)/ours:\(dir.path)/fake"
        #expect(SystemdBusctl.locate(path: path, fallbacks: [], skipping: skipping) == fake.path)
        #expect(SystemdBusctl.locate(path: "\(dir.path)/ours", fallbacks: [], skipping: skipping) == nil)
        #expect(SystemdBusctl.locate(path: "\(dir.path)/ours", fallbacks: [fake.path], skipping: skipping) == fake.path)
    }

    // MARK: the built binary

    @Test func systemdsVerbsRunTheFirstOtherBusctlOnPath() throws {
        let dir = try Self.temporaryDirectory()
        let fake = try Self.fakeSystemdBusctl(in: dir)
        let arguments = ["emit", "/org/x", "org.x.Iface", "Signal", "s", "two words"]
        let result = try InspectCommandTests.run(arguments, environment: ["PATH": "\(dir.path):/usr/bin:/bin"])
        #expect(result.stdout == "stand-in busctl: emit|/org/x|org.x.Iface|Signal|s|two words|\n")
        #expect(result.status == 7)
        _ = fake
    }

    @Test(.enabled(if: hasSystemdBusctl)) func systemdsOwnBusctlAnswersItsVersionAndVerbs() throws {
        // Our binary found through PATH (as after `make install`), then /usr/bin.
        let dir = try Self.temporaryDirectory()
        _ = try Self.install(InspectCommandTests.binary, in: dir, symbolic: true)
        let environment = ["PATH": "\(dir.path):/usr/bin:/bin"]
        let forced = try InspectCommandTests.run(["--systemd", "--version"], environment: environment)
        #expect(forced.status == 0 && forced.stdout.hasPrefix("systemd "))
        let user = try InspectCommandTests.run(["--user", "--version"], environment: environment)
        #expect(user.stdout.hasPrefix("systemd "))
        // A verb of systemd's: its answer (a table, or its "Failed to ..." without a bus here), not ours.
        let list = try InspectCommandTests.run(["list", "--no-pager"], environment: environment)
        #expect(!list.stderr.contains("Error:") && !list.stderr.contains("Usage: busctl <subcommand>"))
        #expect(list.status == 0 || list.stderr.hasPrefix("Failed to"))
    }

    @Test(.enabled(if: hasSystemdBusctl)) func twoCopiesOfOursOnPathDoNotLoop() throws {
        let dir = try Self.temporaryDirectory()
        _ = try Self.install(InspectCommandTests.binary, in: dir.appendingPathComponent("a"))
        _ = try Self.install(InspectCommandTests.binary, in: dir.appendingPathComponent("b"))
        let environment = ["PATH": "\(dir.path)/a:\(dir.path)/b"]
        let result = try InspectCommandTests.run(["--systemd", "--version"], environment: environment)
        #expect(result.stdout.hasPrefix("systemd "))
    }

    @Test func ourVerbsRunOurs() throws {
        let environment = ["PATH": "/usr/bin:/bin"]
        #expect(
            try InspectCommandTests.run(["--version"], environment: environment).stdout
                == "\(SocketBusVersion.string)\n"
        )
        let status = try InspectCommandTests.run(["status", "--http", "127.0.0.1:1"], environment: environment)
        #expect(status.status == 1 && status.stderr.hasPrefix("busctl status: cannot connect to 127.0.0.1:1"))
        let nodes = try InspectCommandTests.run(["nodes", "--redis", "redis://127.0.0.1:1"], environment: environment)
        #expect(nodes.stderr.contains("cannot reach Redis at redis://127.0.0.1:1"))
        let emit = try InspectCommandTests.run(
            ["emit", "news", "{}", "--redis", "redis://127.0.0.1:1"],
            environment: environment
        )
        #expect(emit.stderr.contains("cannot reach Redis at redis://127.0.0.1:1"))
        let help = try InspectCommandTests.run(["help"], environment: environment)
        #expect(help.stdout.contains("busctl --systemd"))
        // Forced: ours rejects a D-Bus name instead of passing it on.
        let forced = try InspectCommandTests.run(["--socketbus", "status", "org.x"], environment: environment)
        #expect(forced.status != 0 && forced.stderr.contains("org.x"))
    }

    // MARK: helpers

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("busctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `dir/busctl`: a copy (or a symbolic link) of `binary`.
    static func install(_ binary: URL, in dir: URL, symbolic: Bool = false) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let target = dir.appendingPathComponent("busctl")
        if symbolic {
            try FileManager.default.createSymbolicLink(at: target, withDestinationURL: binary)
        } else {
            try FileManager.default.copyItem(at: binary, to: target)
        }
        return target
    }

    /// `dir/busctl` that prints its arguments joined by `|` and exits 7.
    static func fakeSystemdBusctl(in dir: URL) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("busctl")
        let text =
            "#!/bin/sh\nprintf 'stand-in busctl: '\nfor a in \"$@\"; do printf '%s|' \"$a\"; done\necho\nexit 7\n"
        try text.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return script
    }
}
