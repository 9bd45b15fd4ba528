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
