import ArgumentParser

/// The socketbus daemon: one next to each Socket.IO server process.
///
/// This build carries the foundation (codec, C bridges); the Redis link,
/// registry and local socket server are being added issue by issue, and the
/// command refuses to start until they exist rather than pretend to run.
@main
struct Busd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busd",
        abstract: "socketbus daemon: the Socket.IO node's member of the Redis cluster.",
        version: "0.1.0"
    )

    func run() throws {
        print("busd 0.1.0: the daemon's Redis link and local socket server are not in this build yet.")
        print("Use `busctl inspect` to decode adapter traffic.")
        throw ExitCode(2)
    }
}
