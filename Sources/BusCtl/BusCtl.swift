import ArgumentParser
import BusCore
import Glibc

/// The operator's command line for socketbus.
///
/// systemd's unrelated `busctl` (the D-Bus tool) gets the command lines
/// meant for it (BusctlRoute); ours is installed ahead of it on PATH.
@main
struct BusCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busctl",
        abstract: "Operate and inspect a socketbus (Socket.IO over Redis) cluster.",
        discussion: """
            systemd's busctl (the D-Bus tool) shares this name: its verbs and options \
            (list, status NAME, call, emit /OBJECT ..., --user, ...) are passed on to it. \
            'busctl --systemd ...' forces systemd's, 'busctl --socketbus ...' this one.
            """,
        version: SocketBusVersion.string,
        subcommands: [
            InspectCommand.self, FindSocketCommand.self, NodesCommand.self, EmitCommand.self, AcksCommand.self,
            AlertTestCommand.self, StatusCommand.self, SocketsCommand.self, RoomsCommand.self, JoinCommand.self,
            LeaveCommand.self, DisconnectCommand.self, TopCommand.self,
        ]
    )

    static func main() {
        switch BusctlRoute.ofThisProcess() {
        case .systemd(let arguments): SystemdBusctl.run(arguments)
        case .socketbus(let arguments):
            // A write to a Redis that went away (over TLS or not) is an error
            // busctl reports, not a SIGPIPE that kills it without a word.
            signal(SIGPIPE, SIG_IGN)
            main(arguments)
        }
    }
}
