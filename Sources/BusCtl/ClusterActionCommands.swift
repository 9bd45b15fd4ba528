import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

/// What `join`, `leave` and `disconnect` publish: the adapter's
/// REMOTE_JOIN / REMOTE_LEAVE / REMOTE_DISCONNECT in the 8.x `opts` form,
/// which every server applies to its own sockets and answers with nothing
/// (as `io.socketsJoin()` etc. of a stock node). So busctl can only say how
/// many servers PUBSUB NUMSUB counted when it published.
struct ClusterAction {
    var key: String
    var namespace: String

    /// Publishes `payload` (built with busctl's uid); returns the servers counted.
    func publish(_ payload: (String) -> [UInt8], command: RedisClient) throws(RedisError) -> Int {
        let channel = AdapterChannel.request(key: key, namespace: namespace).name
        let servers = try command.subscriberCounts([channel])[channel] ?? 0
        guard servers > 0 else { return 0 }
        _ = try command.command([Array("PUBLISH".utf8), Array(channel.utf8), payload(AdapterRequests.randomId())])
        return servers
    }

    /// Publishes, turns a failure into busctl's exit status for `verb`, and
    /// reports what was sent: the whole of each verb's `run()`.
    func run(verb: String, options: RedisOptions, details: [(String, JSValue)], payload: (String) -> [UInt8]) throws {
        let servers: Int
        do {
            let lookup = try options.lookup()
            servers = try publish(payload, command: lookup.connection)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw options.failure(verb, error)
        }
        try Self.report(verb: verb, servers: servers, namespace: namespace, json: options.json, details: details)
    }

    private static func report(verb: String, servers: Int, namespace: String, json: Bool, details: [(String, JSValue)]) throws
    {
        if json {
            let object = JSObject(
                [("action", .string(verb)), ("namespace", .string(namespace)), ("servers", .number(Double(servers)))]
                    + details)
            print(JSONStringifier.string(.object(object)) ?? "{}")
        } else if servers > 0 {
            print("\(verb): sent to \(servers) server(s) of \(namespace) (PUBSUB NUMSUB); they answer nothing")
        }
        if servers == 0 {
            printError("busctl \(verb): no server subscribes the namespace's request channel (PUBSUB NUMSUB 0)")
            throw ExitCode(ClusterExit.noServers)
        }
    }

    static let exitHelp =
        "0 sent to the servers PUBSUB NUMSUB counted (the request has no answer: check with 'busctl sockets'), 2 no server subscribes the namespace's request channel, \(RedisFailure.exitStatusHelp), 1 other error"
}

/// Which sockets `join` / `leave` act on.
struct SocketSelection: ParsableArguments {
    // `.unconditionalSingleValue`: socket ids (and so rooms) may start with '-'.
    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Act on this socket (repeatable).")
    var socket: [String] = []

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Act on the sockets in this room (repeatable).")
    var room: [String] = []

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Leave out the sockets in this room (repeatable).")
    var except: [String] = []

    @Flag(name: .long, help: "Act on every socket of the namespace.")
    var all = false

    /// A socket is its own room, as the adapter's selectors take it.
    var rooms: [Room] { (socket + room).map(Room.name) }

    func validate() throws {
        if socket.isEmpty && room.isEmpty && !all {
            throw ValidationError("name the sockets: --socket <id>, --room <room> or --all")
        }
        if all && !(socket.isEmpty && room.isEmpty) {
            throw ValidationError("--all acts on every socket; it takes no --socket or --room")
        }
    }
}

/// `busctl join` / `busctl leave`: socketsJoin / socketsLeave cluster-wide.
struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Make sockets join rooms on every server (the adapter's REMOTE_JOIN, as io.socketsJoin()).",
        discussion: "Exit status: \(ClusterAction.exitHelp)."
    )

    @Argument(help: "The rooms to join.") var rooms: [String]
    @OptionGroup var selection: SocketSelection
    @OptionGroup var cluster: ClusterRequestOptions
    @OptionGroup var options: RedisOptions

    func run() throws { try JoinOrLeave.run(join: true, rooms: rooms, selection, cluster, options) }
}

struct LeaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leave",
        abstract: "Make sockets leave rooms on every server (the adapter's REMOTE_LEAVE, as io.socketsLeave()).",
        discussion: "Exit status: \(ClusterAction.exitHelp)."
    )

    @Argument(help: "The rooms to leave.") var rooms: [String]
    @OptionGroup var selection: SocketSelection
    @OptionGroup var cluster: ClusterRequestOptions
    @OptionGroup var options: RedisOptions

    func run() throws { try JoinOrLeave.run(join: false, rooms: rooms, selection, cluster, options) }
}

enum JoinOrLeave {
    static func run(
        join: Bool,
        rooms: [String],
        _ selection: SocketSelection,
        _ cluster: ClusterRequestOptions,
        _ options: RedisOptions
    ) throws {
        let action = ClusterAction(key: cluster.adapterKey, namespace: cluster.namespace)
        try action.run(
            verb: join ? "join" : "leave", options: options, details: [("rooms", .array(rooms.map(JSValue.string)))]
        ) { uid in
            RequestEncoding.socketsJoinOrLeave(
                join: join, uid: uid, rooms: selection.rooms, except: selection.except.map(Room.name),
                joined: rooms.map(Room.name))
        }
    }
}

/// `busctl disconnect <socket|room>...`: disconnectSockets cluster-wide.
struct DisconnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disconnect",
        abstract:
            "Disconnect sockets, by id or by room, on every server (the adapter's REMOTE_DISCONNECT, as io.in(...).disconnectSockets()).",
        discussion: """
            Each argument is a socket id or a room (a socket is its own room). --close closes the \
            underlying connection too (disconnectSockets(true)).

            Exit status: \(ClusterAction.exitHelp).
            """
    )

    // `.allUnrecognized`: a socket id may start with '-' (1 in 64 Socket.IO ids).
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Socket ids or rooms.", valueName: "socket|room"))
    var arguments: [String] = []

    /// The targets, with a `--` terminator a user may still type dropped.
    var targets: [String] { arguments.filter { $0 != "--" } }

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Spare the sockets in this room (repeatable).")
    var except: [String] = []

    @Flag(name: .long, help: "Close the underlying connection too.")
    var close = false

    @OptionGroup var cluster: ClusterRequestOptions
    @OptionGroup var options: RedisOptions

    func validate() throws {
        if targets.isEmpty { throw ValidationError("name a socket id or room to disconnect") }
    }

    func run() throws {
        let action = ClusterAction(key: cluster.adapterKey, namespace: cluster.namespace)
        try action.run(
            verb: "disconnect", options: options, details: [("targets", .array(targets.map(JSValue.string)))]
        ) { uid in
            RequestEncoding.disconnectSockets(
                uid: uid, rooms: targets.map(Room.name), except: except.map(Room.name), close: close)
        }
    }
}
