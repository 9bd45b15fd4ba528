import ArgumentParser

/// The operator's command line for socketbus.
///
/// Note: Debian's systemd ships an unrelated `/usr/bin/busctl`; install ours
/// under a path that comes first, or call it by its full path.
@main
struct BusCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busctl",
        abstract: "Operate and inspect a socketbus (Socket.IO over Redis) cluster.",
        version: SocketBusVersion.string,
        subcommands: [InspectCommand.self, FindSocketCommand.self, NodesCommand.self, EmitCommand.self, AcksCommand.self, AlertTestCommand.self, StatusCommand.self]
    )
}

enum SocketBusVersion {
    static let string = "0.1.0"
}
