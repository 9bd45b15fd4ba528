import ArgumentParser
import BusCore
import SocketIOCodec

/// What `busctl find-socket` prints: a socket of a busd node (from the
/// registry), one on a server without busd (from a cluster fetch), or none.
struct FoundSocketReport {
    var json: Bool

    /// A registered socket; throws exit 3 when its node is stale.
    func registered(_ location: RegistryLookup.SocketLocation) throws {
        let now = unixMilliseconds()
        if json {
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

    /// A socket a server without busd reported in its fetch answer.
    func withoutBusd(_ socket: ClusterFetch.FetchedSocket, fetch: ClusterFetch.Result) {
        let handshake = HandshakeSummary(socket.handshake)
        if json {
            let object = JSObject([
                ("socketId", .string(socket.id)), ("found", .bool(true)), ("node", .null),
                ("state", .string("without-busd")), ("namespace", .string(socket.namespace)),
                ("handshake", .object(handshake.jsObject)), ("rooms", .array(socket.rooms)),
                ("servers", servers(fetch)),
            ])
            print(JSONStringifier.string(.object(object)) ?? "{}")
            return
        }
        var lines: [(String, String)] = [
            ("socket", socket.id),
            ("node", "a Socket.IO server without busd (not in the registry; it answered a cluster fetch)"),
            ("namespace", socket.namespace),
        ]
        lines += handshake.lines
        lines.append(
            (
                "rooms",
                socket.rooms.map { Printable.text($0.stringValue ?? JSONStringifier.string($0) ?? "?") }
                    .joined(separator: " ")
            )
        )
        lines.append(("servers", "\(fetch.answeredTotal) of \(fetch.expectedTotal) answered"))
        printTable(lines)
    }

    /// Neither the registry nor any server that answered holds the socket.
    func notFound(_ socketId: String, fetch: ClusterFetch.Result, key: String) {
        if json {
            let object = JSObject([
                ("socketId", .string(socketId)), ("found", .bool(false)), ("servers", servers(fetch)),
            ])
            print(JSONStringifier.string(.object(object)) ?? "")
            return
        }
        let namespaces = fetch.expected.keys.sorted()
        var text = "socket \(socketId) not found: not in the registry"
        if fetch.expectedTotal == 0 {
            text +=
                ", and no server answers requests on "
                + namespaces.map { AdapterChannel.request(key: key, namespace: $0).name }.joined(separator: ", ")
        } else {
            text +=
                ", nor on the servers that answered a cluster fetch in namespace \(namespaces.joined(separator: ", "))"
            text += " (\(fetch.answeredTotal) of \(fetch.expectedTotal) answered)"
        }
        printError(text)
    }

    private func servers(_ fetch: ClusterFetch.Result) -> JSValue {
        .array(
            fetch.expected.keys.sorted().map { nsp in
                .object(
                    JSObject([
                        ("namespace", .string(nsp)), ("counted", .number(Double(fetch.expected[nsp] ?? 0))),
                        ("answered", .number(Double(fetch.answered[nsp] ?? 0))),
                    ])
                )
            }
        )
    }
}

/// What an operator wants from a Socket.IO handshake: where and when the
/// client connected, its user agent, query, and the names (not the values,
/// which may be secrets) of its auth fields.
struct HandshakeSummary {
    var address: String?
    var time: String?
    var issued: Double?
    var userAgent: String?
    var query: JSValue?
    var authKeys: [String]

    init(_ handshake: JSObject) {
        address = handshake["address"]?.stringValue
        time = handshake["time"]?.stringValue
        issued = handshake["issued"]?.numberValue
        userAgent = handshake["headers"]?["user-agent"]?.stringValue
        query = handshake["query"]
        authKeys = handshake["auth"]?.objectValue?.properties.map(\.key) ?? []
    }

    var jsObject: JSObject {
        var object = JSObject()
        object["address"] = address.map(JSValue.string) ?? .null
        object["time"] = time.map(JSValue.string) ?? .null
        object["issued"] = issued.map(JSValue.number) ?? .null
        object["userAgent"] = userAgent.map(JSValue.string) ?? .null
        object["query"] = query ?? .null
        object["authKeys"] = .array(authKeys.map(JSValue.string))
        return object
    }

    var lines: [(String, String)] {
        var connected = time ?? "?"
        // isoString is nil for what is no Date (NaN, beyond ±8.64e15 ms): Int64 holds the rest.
        if let issued, let iso = JSDate.isoString(milliseconds: issued) {
            connected += " (issued \(iso), \(Durations.human(unixMilliseconds() - Int64(issued))) ago)"
        }
        return [
            ("address", Printable.text(address ?? "?")),
            ("connected", Printable.text(connected)),
            ("user-agent", Printable.text(userAgent ?? "-")),
            ("query", Printable.text(query.flatMap { JSONStringifier.string($0) } ?? "-")),
            ("auth keys", authKeys.isEmpty ? "-" : Printable.text(authKeys.joined(separator: ", "))),
        ]
    }
}

/// Text from other servers, made safe for a terminal: control characters
/// (escape sequences could rewrite the screen) are shown as `\u{..}`.
enum Printable {
    static func text(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
