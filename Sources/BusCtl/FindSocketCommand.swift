import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

/// `busctl find-socket <id>`: which node holds a socket. The registry knows
/// the sockets of busd nodes; an id it does not know is looked up with a
/// cluster-wide fetch, which Socket.IO servers without busd answer too.
struct FindSocketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-socket",
        abstract: "Show which node holds a socket, since when, and whether that node is alive.",
        // The argument is parsed as a list (so an id may start with '-'), but it is one id.
        usage:
            "busctl find-socket <socket-id> [--namespace <nsp> ...] [--timeout <timeout>] [--adapter-key <key>] [--redis <redis>] [--redis-password-file <file>] [--config <config>] [--prefix <prefix>] [--json]",
        discussion: """
            The registry is read first. An id it does not hold is looked up with a cluster-wide \
            fetchSockets (REMOTE_FETCH on <adapter-key>-request#<nsp>#) in each --namespace \
            (default: / only); every Socket.IO server of the cluster answers it, so a socket on a \
            server without busd (the stock Redis adapter) is found with what its handshake tells.

            Exit status: 0 found on a live busd node, 2 not found, 3 found but its busd node is \
            stale, 5 connected on a Socket.IO server without busd (found by the cluster fetch), \
            \(RedisFailure.exitStatusHelp), 1 other error.
            """
    )

    /// The exit status of a socket found on a server without busd.
    static let onServerWithoutBusd: Int32 = 5

    // `.allUnrecognized` so that an id starting with '-' (1 in 64 Socket.IO
    // ids) is taken as an id rather than rejected as an unknown option.
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("The socket id (it may start with '-').", valueName: "socket-id")
    )
    var arguments: [String] = []

    @Option(
        name: .long,
        help: "A namespace to search with the cluster fetch (repeatable; default /)."
    )
    var namespace: [String] = []

    @Option(name: .long, help: "How long the cluster fetch waits for the servers' answers (e.g. 5s, 500ms).")
    var timeout: String = "5s"

    @Option(name: .customLong("adapter-key"), help: "The Socket.IO adapter's channel prefix.")
    var adapterKey: String = AdapterChannel.defaultKey

    @OptionGroup var options: RedisOptions

    /// The id, with a `--` terminator a user may still type dropped.
    private var socketIds: [String] { arguments.filter { $0 != "--" } }
    var socketId: String { socketIds[0] }
    /// Each namespace once, in the order given.
    var namespaces: [String] {
        var seen: Set<String> = []
        return namespace.isEmpty ? ["/"] : namespace.filter { seen.insert($0).inserted }
    }

    func validate() throws {
        guard socketIds.count == 1 else {
            throw ValidationError(
                socketIds.isEmpty
                    ? "Missing expected argument '<socket-id>'"
                    : "find-socket takes one socket id, got \(socketIds.count)"
            )
        }
        for nsp in namespace where !nsp.hasPrefix("/") {
            throw ValidationError("--namespace '\(nsp)' must start with '/'")
        }
        do {
            if try DurationText.parse(timeout) < .milliseconds(10) {
                throw ValidationError("--timeout must be at least 10ms")
            }
        } catch let error as DurationText.ParseError {
            throw ValidationError("--timeout: \(error)")
        }
    }

    func run() throws {
        let lookup = try options.lookup()
        let location: RegistryLookup.SocketLocation?
        do {
            location = try lookup.findSocket(socketId)
        } catch {
            throw options.failure("find-socket", error)
        }
        if let location { return try FoundSocketReport(json: options.json).registered(location) }

        let fetch = ClusterFetch(key: adapterKey, namespaces: namespaces, rooms: [.name(socketId)], except: [])
        let result: ClusterFetch.Result
        var registeredMeanwhile: RegistryLookup.SocketLocation?
        let subscriber = try options.connect()
        do {
            let wait = (try? DurationText.parse(timeout)) ?? .seconds(5)
            result = try fetch.run(command: lookup.connection, subscriber: subscriber, timeout: wait) {
                $0.sockets.contains { $0.id == socketId }
            }
            // A busd node answers fetches too: a socket that connected to
            // one while we asked is in the registry now.
            if result.sockets.contains(where: { $0.id == socketId }) {
                registeredMeanwhile = try lookup.findSocket(socketId)
            }
        } catch {
            throw options.failure("find-socket", error)
        }
        if let registeredMeanwhile { return try FoundSocketReport(json: options.json).registered(registeredMeanwhile) }
        let report = FoundSocketReport(json: options.json)
        guard let socket = result.sockets.first(where: { $0.id == socketId }) else {
            report.notFound(socketId, fetch: result, key: adapterKey)
            throw ExitCode(2)
        }
        report.withoutBusd(socket, fetch: result)
        throw ExitCode(Self.onServerWithoutBusd)
    }
}
