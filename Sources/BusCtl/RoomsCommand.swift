import ArgumentParser
import BusCore
import SocketIOCodec

/// `busctl rooms`: every room of a namespace, cluster-wide (ALL_ROOMS).
struct RoomsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rooms",
        abstract: "List the rooms of a namespace on every server of the cluster (the adapter's ALL_ROOMS request).",
        discussion: """
            ALL_ROOMS goes on <adapter-key>-request#<nsp>#, as a stock node's allRooms() sends it; \
            answers are counted against PUBSUB NUMSUB, so stock Socket.IO servers and busd nodes \
            that answer requests are both asked. A socket's own room (its id) is a room too, as \
            the adapter counts it. --json: {namespace, rooms, servers, answered}.

            Exit status: \(ClusterExit.help).
            """
    )

    @OptionGroup var cluster: ClusterRequestOptions
    @OptionGroup var options: RedisOptions

    func run() throws {
        let lookup = try options.lookup()
        let result: ClusterRooms.Result
        do {
            let subscriber = try options.connect()
            result = try ClusterRooms(key: cluster.adapterKey, namespace: cluster.namespace)
                .run(command: lookup.connection, subscriber: subscriber, timeout: cluster.wait)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw options.failure("rooms", error)
        }
        let rooms = result.rooms.sorted { $0.description < $1.description }
        if options.json {
            let object = JSObject([
                ("namespace", .string(cluster.namespace)), ("rooms", .array(rooms.map(\.jsValue))),
                ("servers", .number(Double(result.expected))), ("answered", .number(Double(result.answered))),
            ])
            print(JSONStringifier.string(.object(object)) ?? "{}")
        } else {
            for room in rooms { print(Printable.text(room.description)) }
            print("\(rooms.count) room(s) in \(cluster.namespace); \(result.answered) of \(result.expected) server(s) answered")
        }
        try ClusterVerdict.exit(expected: result.expected, complete: result.isComplete)
    }
}

enum ClusterVerdict {
    static func exit(expected: Int, complete: Bool) throws {
        if expected == 0 {
            printError("busctl: no server subscribes the namespace's request channel (PUBSUB NUMSUB 0)")
            throw ExitCode(ClusterExit.noServers)
        }
        if !complete {
            printError("busctl: some servers did not answer in time; the result above is partial")
            throw ExitCode(ClusterExit.partial)
        }
    }
}
