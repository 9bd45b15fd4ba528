/// The response payloads a stock node publishes on `<key>-response#<nsp>#`,
/// byte for byte (key order of @socket.io/redis-adapter 8.3, socket.io-redis
/// 5.x for the legacy `requestid` forms): JSON except BROADCAST_ACK (msgpack).
public enum ResponseEncoding {
    /// SOCKETS reply: `{requestId, sockets: [sid…]}`.
    /// Written straight into one buffer (no JSValue per id): 10k ids are
    /// what a large node answers.
    public static func sockets(requestId: String, socketIds: [String]) -> [UInt8] {
        var output: [UInt8] = []
        // A socket.io id is 20 characters; quotes and comma make 23.
        output.reserveCapacity(32 + requestId.utf8.count + socketIds.count * 24)
        output.append(contentsOf: #"{"requestId":"#.utf8)
        JSONQuoting.appendQuoted(requestId, to: &output)
        output.append(contentsOf: #","sockets":["#.utf8)
        for (i, id) in socketIds.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            JSONQuoting.appendQuoted(id, to: &output)
        }
        output.append(contentsOf: "]}".utf8)
        return output
    }

    /// ALL_ROOMS reply: `{requestId, rooms}` (numeric rooms stay numbers).
    /// SOCKETS reply of the ids `forEachId` hands out as UTF-8 bytes (the
    /// registry's own storage): no String, no JSValue per socket.
    public static func sockets(
        requestId: String,
        forEachId: ((UnsafeRawBufferPointer) -> Void) -> Void
    ) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        output.append(contentsOf: #"{"requestId":"#.utf8)
        JSONQuoting.appendQuoted(requestId, to: &output)
        output.append(contentsOf: #","sockets":["#.utf8)
        var first = true
        forEachId { id in
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            id.withMemoryRebound(to: UInt8.self) { JSONQuoting.appendQuoted($0.span, to: &output) }
        }
        output.append(contentsOf: "]}".utf8)
        return output
    }

    public static func allRooms(requestId: String, rooms: [Room]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(32 + requestId.utf8.count + rooms.count * 24)
        output.append(contentsOf: #"{"requestId":"#.utf8)
        JSONQuoting.appendQuoted(requestId, to: &output)
        output.append(contentsOf: #","rooms":"#.utf8)
        appendRooms(rooms, to: &output)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// `[room…]` as JSON.stringify writes it: names quoted, numbers as numbers.
    static func appendRooms(_ rooms: [Room], to output: inout [UInt8]) {
        output.append(UInt8(ascii: "["))
        for (i, room) in rooms.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            appendRoom(room, to: &output)
        }
        output.append(UInt8(ascii: "]"))
    }

    /// REMOTE_FETCH reply: `{requestId, sockets: [{id, handshake, rooms, data}…]}`.
    public static func fetchedSockets(requestId: String, sockets: [JSValue]) -> [UInt8] {
        RequestEncoding.json([("requestId", .string(requestId)), ("sockets", .array(sockets))])
    }

    /// REMOTE_FETCH reply around an already-stringified JSON array of sockets
    /// (the node's answer, checked by the caller), without re-encoding it.
    public static func fetchedSockets(requestId: String, socketsJSON: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(32 + requestId.utf8.count + socketsJSON.count)
        output.append(contentsOf: #"{"requestId":"#.utf8)
        JSONQuoting.appendQuoted(requestId, to: &output)
        output.append(contentsOf: #","sockets":"#.utf8)
        output.append(contentsOf: socketsJSON)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// REMOTE_FETCH reply of the sockets only the registry knows (a v1
    /// node), each as ``registrySocket(id:rooms:)``, written straight into one buffer.
    public static func fetchedSockets(requestId: String, registrySockets: [(id: String, rooms: [Room])]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(32 + requestId.utf8.count + registrySockets.count * 96)
        output.append(contentsOf: #"{"requestId":"#.utf8)
        JSONQuoting.appendQuoted(requestId, to: &output)
        output.append(contentsOf: #","sockets":["#.utf8)
        for (i, socket) in registrySockets.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #"{"id":"#.utf8)
            JSONQuoting.appendQuoted(socket.id, to: &output)
            output.append(contentsOf: #","handshake":{},"rooms":"#.utf8)
            appendRooms(socket.rooms, to: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(contentsOf: "]}".utf8)
        return output
    }

    /// The socket a fetchSockets answer describes when only the registry
    /// knows it: `{id, handshake: {}, rooms}` (`data` undefined, so omitted).
    public static func registrySocket(id: String, rooms: [Room]) -> JSValue {
        .object(
            JSObject([("id", .string(id)), ("handshake", .object(JSObject())), ("rooms", RequestEncoding.list(rooms))])
        )
    }

    /// SERVER_SIDE_EMIT reply: `{type: 6, requestId, data}`; `data` undefined
    /// (an ack called without argument) leaves the key out, as JSON.stringify does.
    public static func serverSideEmit(requestId: String, data: JSValue) -> [UInt8] {
        RequestEncoding.json([("type", .number(6)), ("requestId", .string(requestId)), ("data", data)])
    }

    /// BROADCAST_CLIENT_COUNT (8): `{type, requestId, clientCount}`.
    public static func broadcastClientCount(requestId: String, clientCount: Int) -> [UInt8] {
        RequestEncoding.json([
            ("type", .number(8)), ("requestId", .string(requestId)), ("clientCount", .number(Double(clientCount))),
        ])
    }

    /// BROADCAST_ACK (9), msgpack: `{type, requestId, packet}` (the client's first ack argument).
    public static func broadcastAck(requestId: String, argument: JSValue) throws(CodecError) -> [UInt8] {
        let message = JSObject([("type", .number(9)), ("requestId", .string(requestId)), ("packet", argument)])
        return try Notepack.encode(.object(message), flavor: .notepack3)
    }

    /// A socket.io-redis 5.x reply: `{requestid, ...fields}` (clients, rooms,
    /// data, or nothing more for remoteJoin/remoteLeave/remoteDisconnect).
    public static func legacy(requestId: String, _ fields: [(String, JSValue)] = []) -> [UInt8] {
        RequestEncoding.json([("requestid", .string(requestId))] + fields)
    }

    /// The 6.x–7.x reply to a single-socket remoteJoin/Leave/Disconnect: `{requestId}`.
    public static func acknowledged(requestId: String) -> [UInt8] {
        RequestEncoding.json([("requestId", .string(requestId))])
    }
}
