import ArgumentParser
import BusCore
import Hiredis
import SocketIOCodec

#if canImport(Glibc)
    import Glibc
#endif

/// `busctl nodes`: the live (and stale) nodes of the cluster.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract:
            "List the busd nodes registered in Redis (host, pids, sockets, uptime, version) and the servers PUBSUB NUMSUB counts per namespace.",
        discussion: """
            PID is the Socket.IO node's process (as its connector said when it connected; '-' before \
            that, or from a busd that does not record it), BUSD PID busd's. In --json: nodePid and pid.

            Below the nodes, SERVERS is PUBSUB NUMSUB of <adapter-key>-request#<nsp>#: the servers \
            a stock node counts (and waits for) in fetchSockets, serverCount, serverSideEmit with \
            ack and acked broadcasts. Namespaces: every --namespace, else each one whose request \
            channel has a subscriber (PUBSUB CHANNELS) and /. --json prints the nodes only (an \
            array, as before); --servers prints the counts only (with --json: an array of \
            {namespace, channel, servers}).

            Exit status: 0 listed (none registered is not an error), \(RedisFailure.exitStatusHelp), 1 other error.
            """
    )

    @Option(name: .long, help: "A namespace whose request channel to count (repeatable; default: all found, and /).")
    var namespace: [String] = []

    @Option(name: .customLong("adapter-key"), help: "The Socket.IO adapter's channel prefix.")
    var adapterKey: String = AdapterChannel.defaultKey

    @Flag(name: .long, help: "Print only the servers PUBSUB NUMSUB counts per namespace.")
    var servers = false

    @OptionGroup var options: RedisOptions

    func validate() throws {
        for nsp in namespace where !nsp.hasPrefix("/") {
            throw ValidationError("--namespace '\(nsp)' must start with '/'")
        }
    }

    func run() throws {
        let lookup = try options.lookup()
        let nodes: [RegistryLookup.NodeStatus]
        let counts: [ServerCount]
        do {
            nodes = try lookup.nodes()
            counts =
                servers || !options.json
                ? try ServerCount.read(lookup.connection, key: adapterKey, namespaces: namespace) : []
        } catch {
            throw options.failure("nodes", error)
        }
        if servers {
            ServerCount.print(counts, json: options.json, aliveBusdNodes: nodes.filter(\.isAlive).count)
            return
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
        } else {
            printColumns(rows)
        }
        print()
        ServerCount.print(counts, json: false, aliveBusdNodes: nodes.filter(\.isAlive).count)
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

/// Rows as left-aligned columns two spaces apart.
func printColumns(_ rows: [[String]]) {
    guard let header = rows.first else { return }
    let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        print(zip(row, widths).map { $0.0.padding($0.1) }.joined(separator: "  ").trimmingTrailingSpaces())
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
