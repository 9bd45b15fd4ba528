// The requests cluster-bench sends busd: what stock 8.3 nodes publish on
// `socket.io-request#/#`, each with its own requestId.

import SocketIOCodec

/// One kind of request busd answers itself, and how to build one.
struct RequestCase {
    let name: String
    /// Node presence the case needs: 2 (v2 node), 1 (v1 node) or 0 (none).
    let presence: Int
    let make: (_ requestId: String) -> [UInt8]
}

/// requestIds of 6 characters, as uid2(6), unique for the run.
struct RequestIds {
    private var next = 0
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    mutating func take() -> String {
        var n = next
        next += 1
        var characters: [Character] = []
        for _ in 0..<5 {
            characters.append(Self.alphabet[n % Self.alphabet.count])
            n /= Self.alphabet.count
        }
        return "Q" + String(characters)
    }
}

enum Requests {
    static let requester = "stock1"

    static func sockets(room: String?) -> (String) -> [UInt8] {
        { RequestEncoding.sockets(uid: requester, requestId: $0, rooms: room.map { [.name($0)] } ?? []) }
    }

    static func allRooms() -> (String) -> [UInt8] {
        { RequestEncoding.allRooms(uid: requester, requestId: $0) }
    }

    static func fetch(room: String?) -> (String) -> [UInt8] {
        {
            RequestEncoding.remoteFetch(
                uid: requester,
                requestId: $0,
                rooms: room.map { [.name($0)] } ?? [],
                except: []
            )
        }
    }

    /// `io.to(room).timeout(10000).emit("x", 1, cb)` on a stock node, msgpack:
    /// busd keeps each for 10 s, waiting for client acks.
    static func acked(room: String?) -> (String) -> [UInt8] {
        { requestId in
            let packet = JSObject([
                ("type", .number(2)), ("data", .array([.string("x"), .number(1)])), ("nsp", .string("/")),
            ])
            return
                (try? RequestEncoding.broadcastWithAck(
                    uid: requester,
                    requestId: requestId,
                    packet: packet,
                    rooms: room.map { [.name($0)] } ?? [],
                    except: [],
                    flags: JSObject([("timeout", .number(10000))])
                )) ?? []
        }
    }

    /// A stock node's REMOTE_FETCH answer listing `sockets` sockets with a
    /// browser-like handshake: what every server reads on the shared response
    /// channel, whoever asked.
    static func foreignFetchResponse(_ sockets: BenchSockets, requestId: String) -> [UInt8] {
        let headers = JSObject([
            ("host", .string("127.0.0.1:3000")), ("connection", .string("Upgrade")), ("upgrade", .string("websocket")),
            ("sec-websocket-version", .string("13")), ("sec-websocket-key", .string("dGhlIHNhbXBsZSBub25jZQ==")),
            ("sec-websocket-extensions", .string("permessage-deflate; client_max_window_bits")),
        ])
        let list: [JSValue] = (0..<sockets.count).map { i in
            let handshake = JSObject([
                ("headers", .object(headers)), ("time", .string("Sun Dec 06 2026 01:50:00 GMT+0000")),
                ("address", .string("127.0.0.1")), ("xdomain", .bool(false)), ("secure", .bool(false)),
                ("issued", .number(1_796_521_800_000 + Double(i))),
                ("url", .string("/socket.io/?EIO=4&transport=websocket")),
                ("query", .object(JSObject([("EIO", .string("4")), ("transport", .string("websocket"))]))),
                ("auth", .object(JSObject())),
            ])
            return .object(
                JSObject([
                    ("id", .string(sockets.id(i))), ("handshake", .object(handshake)),
                    ("rooms", .array([.string(sockets.id(i)), .string(sockets.room(i))])),
                    ("data", .object(JSObject())),
                ])
            )
        }
        return ResponseEncoding.fetchedSockets(requestId: requestId, sockets: list)
    }

    /// The cases, by node presence, for a node whose sockets are `sockets`.
    static func cases(_ sockets: BenchSockets) -> [RequestCase] {
        let room = sockets.room(7)
        let perRoom = sockets.count / sockets.rooms
        return [
            RequestCase(
                name: "SOCKETS to a room (\(perRoom) ids), v2 registry",
                presence: 2,
                make: Requests.sockets(room: room)
            ),
            RequestCase(
                name: "SOCKETS all (\(sockets.count) ids), v2 registry",
                presence: 2,
                make: Requests.sockets(room: nil)
            ),
            RequestCase(
                name: "ALL_ROOMS (\(sockets.count + sockets.rooms) rooms), v2 registry",
                presence: 2,
                make: Requests.allRooms()
            ),
            RequestCase(
                name: "REMOTE_FETCH a room (\(perRoom) sockets), v1 node",
                presence: 1,
                make: Requests.fetch(room: room)
            ),
            RequestCase(
                name: "REMOTE_FETCH all (\(sockets.count) sockets), v1 node",
                presence: 1,
                make: Requests.fetch(room: nil)
            ),
            RequestCase(
                name: "SOCKETS to a room (\(perRoom) ids), v1 node, nothing pending",
                presence: 1,
                make: Requests.sockets(room: room)
            ),
            RequestCase(
                name: "BROADCAST 7 to a room (\(perRoom) clients), v1 node: DELIVER + count",
                presence: 1,
                make: Requests.acked(room: room)
            ),
            // The same request as the first case, while the acked broadcasts
            // of the case above wait for their clients' acks (10 s).
            RequestCase(
                name: "SOCKETS to a room, v1, the BROADCASTs above pending",
                presence: 1,
                make: Requests.sockets(room: room)
            ),
            RequestCase(name: "SOCKETS, no node", presence: 0, make: Requests.sockets(room: nil)),
            RequestCase(name: "REMOTE_FETCH, no node", presence: 0, make: Requests.fetch(room: nil)),
            RequestCase(name: "BROADCAST 7, no node: count 0", presence: 0, make: Requests.acked(room: nil)),
        ]
    }
}
