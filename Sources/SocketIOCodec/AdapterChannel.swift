/// The Redis channel names of the Socket.IO Redis adapter (classic pub/sub).
///
/// | channel | carries |
/// |---|---|
/// | `<key>#<nsp>#` | broadcasts to a namespace, or to 0 or ≥ 2 rooms |
/// | `<key>#<nsp>#<room>#` | broadcasts to exactly one room |
/// | `<key>-request#<nsp>#` | requests between nodes |
/// | `<key>-response#<nsp>#` | responses (and `…#<uid>#` for one node) |
///
/// The namespace keeps its leading slash; a room may itself contain `#`
/// (socket.io 2.x ids are `<nsp>#<engine id>`): it is whatever lies between
/// the namespace prefix and the final `#`.
public enum AdapterChannel: Sendable, Hashable {
    case broadcast(key: String, namespace: String, room: String?)
    case request(key: String, namespace: String)
    case response(key: String, namespace: String, uid: String?)

    public static let defaultKey = "socket.io"

    public var key: String {
        switch self {
        case .broadcast(let key, _, _), .request(let key, _), .response(let key, _, _): return key
        }
    }

    public var namespace: String {
        switch self {
        case .broadcast(_, let nsp, _), .request(_, let nsp), .response(_, let nsp, _): return nsp
        }
    }

    /// The channel name.
    public var name: String {
        switch self {
        case .broadcast(let key, let nsp, let room):
            return room.map { "\(key)#\(nsp)#\($0)#" } ?? "\(key)#\(nsp)#"
        case .request(let key, let nsp):
            return "\(key)-request#\(nsp)#"
        case .response(let key, let nsp, let uid):
            return uid.map { "\(key)-response#\(nsp)#\($0)#" } ?? "\(key)-response#\(nsp)#"
        }
    }

    /// Parses a channel name. With `key` nil the key is guessed as the text
    /// before the first `#` (minus a `-request`/`-response` suffix).
    ///
    /// socket.io-redis 5.0.0 published room channels without the trailing
    /// `#`; those parse too, with the whole remainder as the room.
    public init(parsing name: String, key: String? = nil) throws(CodecError) {
        let utf8 = Array(name.utf8)
        var head: String
        var kind = 0  // 0 broadcast, 1 request, 2 response
        let restStart: Int
        if let key {
            if name.hasPrefix(key + "-request#") {
                kind = 1
                restStart = key.utf8.count + "-request#".utf8.count
            } else if name.hasPrefix(key + "-response#") {
                kind = 2
                restStart = key.utf8.count + "-response#".utf8.count
            } else if name.hasPrefix(key + "#") {
                restStart = key.utf8.count + 1
            } else {
                throw CodecError(.invalidChannel, "'\(name)' does not start with the key '\(key)'")
            }
            head = key
        } else {
            guard let firstHash = utf8.firstIndex(of: UInt8(ascii: "#")) else {
                throw CodecError(.invalidChannel, "'\(name)' has no '#': not a Socket.IO adapter channel")
            }
            head = String(decoding: utf8[..<firstHash], as: UTF8.self)
            if head.hasSuffix("-request") {
                kind = 1
                head.removeLast("-request".count)
            } else if head.hasSuffix("-response") {
                kind = 2
                head.removeLast("-response".count)
            }
            restStart = firstHash + 1
        }
        let rest = utf8[restStart...]
        guard let nspEnd = rest.firstIndex(of: UInt8(ascii: "#")) else {
            throw CodecError(.invalidChannel, "'\(name)' has no '#' after the namespace")
        }
        let namespace = String(decoding: rest[..<nspEnd], as: UTF8.self)
        guard namespace.hasPrefix("/") else {
            throw CodecError(.invalidChannel, "namespace '\(namespace)' in '\(name)' does not start with '/'")
        }
        var tail = rest[(nspEnd + 1)...]
        let suffix: String?
        if tail.isEmpty {
            suffix = nil
        } else {
            if tail.last == UInt8(ascii: "#") { tail = tail.dropLast() }
            suffix = String(decoding: tail, as: UTF8.self)
        }
        switch kind {
        case 1:
            guard suffix == nil else {
                throw CodecError(.invalidChannel, "request channel '\(name)' has text after the namespace")
            }
            self = .request(key: head, namespace: namespace)
        case 2:
            self = .response(key: head, namespace: namespace, uid: suffix)
        default:
            self = .broadcast(key: head, namespace: namespace, room: suffix)
        }
    }

    /// The `PSUBSCRIBE` pattern that covers a namespace's broadcast channel
    /// and all its room channels, with glob characters of the key and
    /// namespace escaped (Redis globs treat `*?[]\` specially).
    public static func broadcastPattern(key: String, namespace: String) -> String {
        "\(globEscaped(key))#\(globEscaped(namespace))#*"
    }

    /// A pattern matching exactly one channel name: what busd uses to watch a
    /// request channel without being counted by `PUBSUB NUMSUB`.
    public static func exactPattern(_ channel: String) -> String {
        globEscaped(channel)
    }

    public static func globEscaped(_ text: String) -> String {
        var out = ""
        for ch in text {
            if "*?[]\\".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }
}
