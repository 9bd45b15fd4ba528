import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

/// `busctl sockets`: the sockets of a namespace or of rooms, cluster-wide
/// (REMOTE_FETCH), or of one busd node (its registry set).
struct SocketsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockets",
        abstract: "List the sockets of a namespace, of rooms (cluster-wide fetchSockets) or of one busd node (the registry).",
        discussion: """
            Without --node: REMOTE_FETCH on <adapter-key>-request#<nsp>#, as a stock node's \
            fetchSockets() sends it, with --room (any of them; default the whole namespace) and \
            --except; answers are counted against PUBSUB NUMSUB, so sockets on stock Socket.IO \
            servers and on busd nodes are listed. With --node <busd node id>: that node's sockets \
            as the registry holds them (<prefix>:node:<id>:sockets); a server without busd has \
            no registry entry. --json: {namespace, sockets: [{id, rooms, address}], servers, \
            answered} (with --node: {node, sockets: [id]}).

            Exit status: \(ClusterExit.help) (with --node: 0, or 2 when the node holds none).
            """
    )

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "List sockets in this room (repeatable: in any of them).")
    var room: [String] = []

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Leave out sockets in this room (repeatable).")
    var except: [String] = []

    @Option(name: .long, help: "List the sockets a busd node holds, from the registry.")
    var node: String?

    @OptionGroup var cluster: ClusterRequestOptions
    @OptionGroup var options: RedisOptions

    func run() throws {
        let lookup = try options.lookup()
        if let node { return try listNode(node, lookup: lookup) }
        let fetch = ClusterFetch(
            key: cluster.adapterKey, namespaces: [cluster.namespace], rooms: room.map(Room.name),
            except: except.map(Room.name))
        let result: ClusterFetch.Result
        do {
            let subscriber = try options.connect()
            result = try fetch.run(command: lookup.connection, subscriber: subscriber, timeout: cluster.wait)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw options.failure("sockets", error)
        }
        let sockets = result.sockets.sorted { $0.id < $1.id }
        if options.json {
            let list: [JSValue] = sockets.map { socket in
                .object(
                    JSObject([
                        ("id", .string(socket.id)), ("rooms", .array(socket.rooms)),
                        ("address", socket.handshake["address"] ?? .null),
                    ]))
            }
            let object = JSObject([
                ("namespace", .string(cluster.namespace)), ("sockets", .array(list)),
                ("servers", .number(Double(result.expectedTotal))),
                ("answered", .number(Double(result.answeredTotal))),
            ])
            print(JSONStringifier.string(.object(object)) ?? "{}")
        } else {
            printColumns(
                [["SOCKET", "ADDRESS", "ROOMS"]]
                    + sockets.map { socket in
                        [
                            Printable.text(socket.id),
                            Printable.text(socket.handshake["address"]?.stringValue ?? "-"),
                            Printable.text(socket.rooms.map(roomText).joined(separator: ",")),
                        ]
                    })
            print(
                "\(sockets.count) socket(s) in \(cluster.namespace); \(result.answeredTotal) of \(result.expectedTotal) server(s) answered"
            )
        }
        try ClusterVerdict.exit(expected: result.expectedTotal, complete: result.isComplete)
    }

    private func listNode(_ node: String, lookup: RegistryLookup) throws {
        var ids: [String] = []
        do {
            if case .array(let members) = try lookup.connection.command(["SMEMBERS", lookup.keys.sockets(of: node)]) {
                ids = members.compactMap(\.string).sorted()
            }
        } catch {
            throw options.failure("sockets", error)
        }
        if options.json {
            let object = JSObject([("node", .string(node)), ("sockets", .array(ids.map(JSValue.string)))])
            print(JSONStringifier.string(.object(object)) ?? "{}")
        } else {
            for id in ids { print(Printable.text(id)) }
            print("\(ids.count) socket(s) on busd node \(Printable.text(node))")
        }
        if ids.isEmpty { throw ExitCode(2) }
    }
}

/// A room as a fetch answer lists it: a name, or a number as JS prints it.
func roomText(_ value: JSValue) -> String {
    switch value {
    case .string(let name): return name
    case .number(let number): return JSNumberFormatter.string(number)
    default: return "?"
    }
}
