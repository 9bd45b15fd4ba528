import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

#if canImport(Glibc)
    import Glibc
#endif

/// `busctl find-socket <id>`: which node holds a socket.
struct FindSocketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-socket",
        abstract: "Show which node holds a socket, since when, and whether that node is alive.",
        // The argument is parsed as a list (so an id may start with '-'), but it is one id.
        usage:
            "busctl find-socket <socket-id> [--redis <redis>] [--redis-password-file <file>] [--config <config>] [--prefix <prefix>] [--json]",
        discussion:
            "Exit status: 0 found on a live node, 2 not found, 3 found but its node is stale, \(RedisFailure.exitStatusHelp), 1 other error."
    )

    // `.allUnrecognized` so that an id starting with '-' (1 in 64 Socket.IO
    // ids) is taken as an id rather than rejected as an unknown option.
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("The socket id (it may start with '-').", valueName: "socket-id")
    )
    var arguments: [String] = []

    /// The id, with a `--` terminator a user may still type dropped.
    private var socketIds: [String] { arguments.filter { $0 != "--" } }
    var socketId: String { socketIds[0] }

    func validate() throws {
        guard socketIds.count == 1 else {
            throw ValidationError(
                socketIds.isEmpty
                    ? "Missing expected argument '<socket-id>'"
                    : "find-socket takes one socket id, got \(socketIds.count)"
            )
        }
    }

    @OptionGroup var options: RedisOptions

    func run() throws {
        let lookup = try options.lookup()
        let location: RegistryLookup.SocketLocation?
        do {
            location = try lookup.findSocket(socketId)
        } catch {
            throw options.failure("find-socket", error)
        }
        guard let location else {
            if options.json {
                print(
                    JSONStringifier.string(
                        .object(JSObject([("socketId", .string(socketId)), ("found", .bool(false))]))
                    ) ?? ""
                )
            } else {
                printError("socket \(socketId) not found")
            }
            throw ExitCode(2)
        }
        let now = unixMilliseconds()
        if options.json {
            var object = JSObject([
                ("socketId", .string(location.socketId)), ("found", .bool(true)), ("node", .string(location.node)),
                ("state", .string(location.isAlive ? "alive" : "stale")), ("namespace", .string(location.namespace)),
                ("connectedAt", .string(JSDate.isoString(milliseconds: Double(location.connectedAt)) ?? "")),
                ("connectedForMs", .number(Double(now - location.connectedAt))),
            ])
            if let record = location.nodeRecord {
                object["host"] = .string(record.host)
                object["pid"] = .number(Double(record.pid))
                if let nodePid = record.nodePid { object["nodePid"] = .number(Double(nodePid)) }
            }
            print(JSONStringifier.string(.object(object)) ?? "{}")
        } else {
            var lines: [(String, String)] = [
                ("socket", location.socketId),
                ("node", location.node),
                (
                    "state",
                    location.isAlive
                        ? "alive" : "stale (its liveness key expired: the node is gone or cut off from Redis)"
                ),
                ("namespace", location.namespace),
                (
                    "connected",
                    "\(JSDate.isoString(milliseconds: Double(location.connectedAt)) ?? "?") (\(Durations.human(now - location.connectedAt)) ago)"
                ),
            ]
            if let record = location.nodeRecord {
                lines.append(
                    (
                        "host",
                        "\(record.host), node pid \(record.nodePid.map(String.init) ?? "-"), busd pid \(record.pid)"
                    )
                )
            }
            printTable(lines)
        }
        if !location.isAlive { throw ExitCode(3) }
    }
}

/// `busctl nodes`: the live (and stale) nodes of the cluster.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the nodes registered in Redis: host, pids, sockets, uptime, version.",
        discussion: """
            PID is the Socket.IO node's process (as its connector said when it connected; '-' before \
            that, or from a busd that does not record it), BUSD PID busd's. In --json: nodePid and pid.

            Exit status: 0 listed (none registered is not an error), \(RedisFailure.exitStatusHelp), 1 other error.
            """
    )

    @OptionGroup var options: RedisOptions

    func run() throws {
        let lookup = try options.lookup()
        let nodes: [RegistryLookup.NodeStatus]
        do {
            nodes = try lookup.nodes()
        } catch {
            throw options.failure("nodes", error)
        }
        let now = unixMilliseconds()
        if options.json {
            let array: [JSValue] = nodes.map { node in
                var object = JSObject([
                    ("node", .string(node.id)), ("state", .string(node.isAlive ? "alive" : "stale")),
                ])
                if let r = node.record {
                    object["host"] = .string(r.host)
                    object["pid"] = .number(Double(r.pid))
                    if let nodePid = r.nodePid { object["nodePid"] = .number(Double(nodePid)) }
                    object["sockets"] = .number(Double(r.sockets))
                    object["uptimeMs"] = .number(Double(now - r.startedAt))
                    object["version"] = .string(r.version)
                    object["uid"] = .string(r.uid)
                }
                return .object(object)
            }
            print(JSONStringifier.string(.array(array)) ?? "[]")
            return
        }
        var rows = [["NODE", "STATE", "HOST", "PID", "BUSD PID", "SOCKETS", "UPTIME", "VERSION"]]
        for node in nodes {
            if let r = node.record {
                rows.append([
                    node.id, "alive", r.host, r.nodePid.map(String.init) ?? "-", "\(r.pid)", "\(r.sockets)",
                    Durations.human(now - r.startedAt), r.version,
                ])
            } else {
                rows.append([node.id, "stale", "-", "-", "-", "-", "-", "-"])
            }
        }
        if nodes.isEmpty {
            print("no nodes registered")
            return
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0.0.padding($0.1) }.joined(separator: "  ").trimmingTrailingSpaces())
        }
    }
}

enum Durations {
    static func human(_ milliseconds: Int64) -> String {
        let s = max(0, milliseconds / 1000)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86400)d\(s % 86400 / 3600)h"
    }
}

func printTable(_ lines: [(String, String)]) {
    let width = (lines.map(\.0.count).max() ?? 0) + 2
    for (name, value) in lines { print(name.padding(width) + value) }
}

func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
