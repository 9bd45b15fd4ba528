import ArgumentParser
import BusCore
import SocketIOCodec

/// The options of the cluster verbs (`sockets`, `rooms`, `join`, `leave`,
/// `disconnect`): which namespace, which adapter key, how long to wait.
struct ClusterRequestOptions: ParsableArguments {
    @Option(name: .long, help: "The namespace (default /).")
    var namespace: String = "/"

    @Option(name: .long, help: "How long to wait for the servers' answers (e.g. 5s, 500ms).")
    var timeout: String = "5s"

    @Option(name: .customLong("adapter-key"), help: "The Socket.IO adapter's channel prefix.")
    var adapterKey: String = AdapterChannel.defaultKey

    var wait: Duration { (try? DurationText.parse(timeout)) ?? .seconds(5) }

    func validate() throws {
        guard namespace.hasPrefix("/") else { throw ValidationError("--namespace '\(namespace)' must start with '/'") }
        do {
            if try DurationText.parse(timeout) < .milliseconds(10) {
                throw ValidationError("--timeout must be at least 10ms")
            }
        } catch let error as DurationText.ParseError {
            throw ValidationError("--timeout: \(error)")
        }
    }
}

/// Exit statuses shared by the cluster verbs.
enum ClusterExit {
    /// Some counted servers did not answer in time; what came is printed.
    static let partial: Int32 = 6
    /// No server serves the namespace (NUMSUB 0): nothing was asked.
    static let noServers: Int32 = 2
    static let help =
        "0 every counted server answered, 6 some servers did not answer in time (the partial result is printed), 2 no server subscribes the namespace's request channel, \(RedisFailure.exitStatusHelp), 1 other error"
}
