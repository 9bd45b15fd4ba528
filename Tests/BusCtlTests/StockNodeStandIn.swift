import Foundation
import Hiredis
import SocketIOCodec

/// A Socket.IO server with @socket.io/redis-adapter 8.3.0, as seen from
/// Redis: a test-side client that SUBSCRIBEs the request channel (so `PUBSUB
/// NUMSUB` counts it), answers SOCKETS, REMOTE_FETCH and BROADCAST as the adapter
/// does (byte shapes of ../shared/vectors/captured.jsonl: JSON fetch answer,
/// JSON BROADCAST_CLIENT_COUNT, msgpack BROADCAST_ACK), and PSUBSCRIBEs the
/// broadcast channels, delivering by the in-memory adapter's rule, so a
/// test sees every delivery its sockets got and where from.
final class StockNodeStandIn: @unchecked Sendable {
    struct Socket {
        var id: String
        var rooms: [String]
        /// The client's first ack argument; nil: the client never acks.
        var ack: JSValue?
    }

    enum Behaviour {
        case answers
        /// Counted by NUMSUB, never answers (a hung server).
        case silent
        /// Answers on `<key>-response#<nsp>#<uid>#` (publishOnSpecificResponseChannel).
        case specificResponseChannel
    }

    let namespace: String
    let sockets: [Socket]
    private let behaviour: Behaviour
    private let subscriber: RedisConnection
    private let publisher: RedisConnection
    private let lock = NSLock()
    private var _requests: [(raw: [UInt8], value: JSValue)] = []
    private var _deliveries: [(socket: String, via: String)] = []
    private var stopped = false
    private var thread: Thread?

    init(redis port: Int, namespace: String = "/", sockets: [Socket], behaviour: Behaviour = .answers) throws {
        self.namespace = namespace
        self.sockets = sockets
        self.behaviour = behaviour
        subscriber = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port))
        publisher = try RedisConnection(endpoint: .tcp(host: "127.0.0.1", port: port))
        _ = try subscriber.command(["SUBSCRIBE", "socket.io-request#\(namespace)#"])
        _ = try subscriber.command(["PSUBSCRIBE", "socket.io#\(namespace)#*"])
        let thread = Thread { [unowned self] in self.run() }
        self.thread = thread
        thread.start()
    }

    deinit { stop() }

    func stop() {
        lock.withLock { stopped = true }
        while thread?.isFinished == false { Thread.sleep(forTimeInterval: 0.01) }
    }

    var requests: [(raw: [UInt8], value: JSValue)] { lock.withLock { _requests } }
    /// The request id of the last BROADCAST request received.
    var requestIdOfBroadcast: String? {
        requests.last { $0.value["type"] == .number(7) }?.value["requestId"]?.stringValue
    }
    /// Every delivery to a socket of this node: `via` is "broadcast" or "request".
    var deliveries: [(socket: String, via: String)] { lock.withLock { _deliveries } }

    private func run() {
        while !lock.withLock({ stopped }) {
            do {
                guard try subscriber.waitReadable(timeout: .milliseconds(20)) else { continue }
                try subscriber.readAvailable()
                while let reply = try subscriber.bufferedReply() {
                    guard case .array(let parts) = reply, case .bulk(let payload)? = parts.last else { continue }
                    if parts.first?.string == "pmessage" { onBroadcast(payload) }
                    if parts.first?.string == "message" { try onRequest(payload) }
                }
            } catch {
                return
            }
        }
    }

    /// The in-memory adapter's rule: sockets in any of `rooms` (all when
    /// empty), less those in any of `except` (a socket id is a room).
    private func targets(rooms: [String], except: [String]) -> [Socket] {
        sockets.filter { socket in
            let own = [socket.id] + socket.rooms
            return (rooms.isEmpty || own.contains(where: rooms.contains)) && !own.contains(where: except.contains)
        }
    }

    private func onBroadcast(_ payload: [UInt8]) {
        guard let message = try? BroadcastMessage.decode(payload), message.uid != "stand-in" else { return }
        let hit = targets(
            rooms: message.rooms.map(\.description),
            except: (message.except ?? []).map(\.description)
        )
        lock.withLock { _deliveries += hit.map { ($0.id, "broadcast") } }
    }

    private func onRequest(_ payload: [UInt8]) throws {
        let encoding = PayloadEncoding.sniff(payload)
        guard let value = try? AdapterMessage.decodeValue(payload, encoding: encoding) else { return }
        lock.withLock { _requests.append((payload, value)) }
        guard behaviour != .silent, let request = value.objectValue, let requestId = request["requestId"]?.stringValue
        else { return }
        let channel =
            behaviour == .specificResponseChannel
            ? "socket.io-response#\(namespace)#\(request["uid"]?.stringValue ?? "")#"
            : "socket.io-response#\(namespace)#"
        let opts = request["opts"]
        let rooms = (opts?["rooms"]?.arrayValue ?? []).compactMap(\.stringValue)
        let except = (opts?["except"]?.arrayValue ?? []).compactMap(\.stringValue)
        switch request["type"]?.numberValue {
        case 0:
            let ids = targets(rooms: (request["rooms"]?.arrayValue ?? []).compactMap(\.stringValue), except: [])
            let list = ids.map { "\"\($0.id)\"" }.joined(separator: ",")
            let answer = #"{"requestId":"\#(requestId)","sockets":[\#(list)]}"#
            _ = try publisher.command([Array("PUBLISH".utf8), Array(channel.utf8), Array(answer.utf8)])
        case 5:
            let found = targets(rooms: rooms, except: except).map { socket -> String in
                let roomList = ([socket.id] + socket.rooms).map { "\"\($0)\"" }.joined(separator: ",")
                return
                    #"{"id":"\#(socket.id)","handshake":\#(Self.handshake),"rooms":[\#(roomList)],"data":{"nodeId":"stock"}}"#
            }
            let answer = #"{"requestId":"\#(requestId)","sockets":[\#(found.joined(separator: ","))]}"#
            _ = try publisher.command([Array("PUBLISH".utf8), Array(channel.utf8), Array(answer.utf8)])
        case 7:
            let hit = targets(rooms: rooms, except: except)
            lock.withLock { _deliveries += hit.map { ($0.id, "request") } }
            let count = #"{"type":8,"requestId":"\#(requestId)","clientCount":\#(hit.count)}"#
            _ = try publisher.command([Array("PUBLISH".utf8), Array(channel.utf8), Array(count.utf8)])
            for socket in hit {
                guard let ack = socket.ack else { continue }
                let answer = try Notepack.encode(
                    .object(JSObject([("type", .number(9)), ("requestId", .string(requestId)), ("packet", ack)]))
                )
                _ = try publisher.command([Array("PUBLISH".utf8), Array(channel.utf8), answer])
            }
        default:
            return
        }
    }

    /// A handshake as socket.io 4.8.1 gives it (captured, seq 39), with a secret in `auth`.
    static let handshake =
        #"{"headers":{"upgrade":"websocket","host":"127.0.0.1:3102","user-agent":"node-XMLHttpRequest","connection":"Upgrade"},"time":"Sat Nov 21 2026 05:02:59 GMT+0000 (Coordinated Universal Time)","address":"10.1.2.3","xdomain":true,"secure":false,"issued":1795237379219,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{"user":"A","token":"s3cr3t-t0ken"}}"#
}
