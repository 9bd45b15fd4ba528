import SocketIOCodec

#if canImport(Glibc)
    import Glibc
#endif
// In release builds (whole-module) Swift can take the C time structs
// (timespec, timeval) as declared by CHiredis, whose headers (with OpenSSL's
// since TLS) include them too; importing it keeps their members visible.
internal import CHiredis

/// What a busd says about itself in its liveness key.
public struct NodeRecord: Sendable, Hashable {
    public var id: String
    public var host: String
    /// busd's process id.
    public var pid: Int
    /// The process id of the Socket.IO node busd serves (from the
    /// connector's HELLO); nil before a node connected, and in records
    /// written by a busd that did not record it.
    public var nodePid: Int?
    public var version: String
    /// Milliseconds since the Unix epoch.
    public var startedAt: Int64
    public var sockets: Int
    /// The uid busd publishes under on the adapter channels.
    public var uid: String

    public init(
        id: String,
        host: String,
        pid: Int,
        nodePid: Int? = nil,
        version: String,
        startedAt: Int64,
        sockets: Int,
        uid: String
    ) {
        self.id = id
        self.host = host
        self.pid = pid
        self.nodePid = nodePid
        self.version = version
        self.startedAt = startedAt
        self.sockets = sockets
        self.uid = uid
    }

    public var json: String {
        var object = JSObject([
            ("id", .string(id)), ("host", .string(host)), ("pid", .number(Double(pid))),
            ("version", .string(version)), ("startedAt", .number(Double(startedAt))),
            ("sockets", .number(Double(sockets))), ("uid", .string(uid)),
        ])
        if let nodePid { object["nodePid"] = .number(Double(nodePid)) }
        return JSONStringifier.string(.object(object)) ?? "{}"
    }

    public init?(json: String) {
        guard case .object(let o)? = try? JSONParser().parse(Array(json.utf8)),
            let id = o["id"]?.stringValue
        else { return nil }
        self.id = id
        host = o["host"]?.stringValue ?? "?"
        // Int(exactly:): a record from Redis may hold any number; what is
        // not a whole number in range reads as unknown, never a trap.
        pid = o["pid"]?.numberValue.flatMap { Int(exactly: $0) } ?? 0
        nodePid = o["nodePid"]?.numberValue.flatMap { Int(exactly: $0) }
        version = o["version"]?.stringValue ?? "?"
        startedAt = o["startedAt"]?.numberValue.flatMap { Int64(exactly: $0) } ?? 0
        sockets = o["sockets"]?.numberValue.flatMap { Int(exactly: $0) } ?? 0
        uid = o["uid"]?.stringValue ?? ""
    }
}

/// Milliseconds since the Unix epoch.
public func unixMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
