/// The request payloads a stock adapter publishes on `<key>-request#<nsp>#`,
/// byte for byte: the key order of @socket.io/redis-adapter 8.3 (and of
/// socket.io-redis 5.x for the legacy forms), JSON except BROADCAST (msgpack).
public enum RequestEncoding {
    /// ALL_ROOMS (1): `{uid, requestId, type}`.
    public static func allRooms(uid: String, requestId: String) -> [UInt8] {
        json([("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(1))])
    }

    /// SOCKETS (0), as 6.x–7.x sent it: `{uid, requestId, type, rooms}`.
    public static func sockets(uid: String, requestId: String, rooms: [Room]) -> [UInt8] {
        json([("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(0)), ("rooms", list(rooms))])
    }

    /// REMOTE_FETCH (5): `{uid, requestId, type, opts: {rooms, except}}`.
    public static func remoteFetch(uid: String, requestId: String, rooms: [Room], except: [Room]) -> [UInt8] {
        json([
            ("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(5)),
            ("opts", options(rooms, except)),
        ])
    }

    /// socketsJoin (REMOTE_JOIN 2) / socketsLeave (REMOTE_LEAVE 3), `opts`
    /// form: `{uid, type, opts, rooms}`; the emitter sends no `uid`.
    public static func socketsJoinOrLeave(
        join: Bool,
        uid: String?,
        rooms: [Room],
        except: [Room],
        joined: [Room]
    ) -> [UInt8] {
        var pairs: [(String, JSValue)] = []
        if let uid { pairs.append(("uid", .string(uid))) }
        pairs += [("type", .number(join ? 2 : 3)), ("opts", options(rooms, except)), ("rooms", list(joined))]
        return json(pairs)
    }

    /// disconnectSockets (REMOTE_DISCONNECT 4): `{uid, type, opts, close}`.
    public static func disconnectSockets(uid: String?, rooms: [Room], except: [Room], close: Bool) -> [UInt8] {
        var pairs: [(String, JSValue)] = []
        if let uid { pairs.append(("uid", .string(uid))) }
        pairs += [("type", .number(4)), ("opts", options(rooms, except)), ("close", .bool(close))]
        return json(pairs)
    }

    /// The 6.x–7.x single-socket forms of REMOTE_JOIN/LEAVE (`{uid, requestId,
    /// type, sid, room}`) and REMOTE_DISCONNECT (`{uid, requestId, type, sid, close}`).
    public static func remoteSocket(type: Int, uid: String, requestId: String, sid: String, room: Room?, close: Bool)
        -> [UInt8]
    {
        var pairs: [(String, JSValue)] = [
            ("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(Double(type))),
            ("sid", .string(sid)),
        ]
        if let room { pairs.append(("room", room.jsValue)) } else { pairs.append(("close", .bool(close))) }
        return json(pairs)
    }

    /// SERVER_SIDE_EMIT (6): `{uid, type, data}`, with an ack `{uid, requestId, type, data}`.
    public static func serverSideEmit(uid: String, requestId: String?, data: [JSValue]) -> [UInt8] {
        var pairs: [(String, JSValue)] = [("uid", .string(uid))]
        if let requestId { pairs.append(("requestId", .string(requestId))) }
        pairs += [("type", .number(6)), ("data", .array(data))]
        return json(pairs)
    }

    /// BROADCAST (7) with acknowledgements, msgpack:
    /// `{uid, requestId, type, packet: {type, data, nsp}, opts: {rooms, except, flags}}`.
    public static func broadcastWithAck(
        uid: String,
        requestId: String,
        packet: JSObject,
        rooms: [Room],
        except: [Room],
        flags: JSObject
    ) throws(CodecError) -> [UInt8] {
        var opts = JSObject()
        opts["rooms"] = list(rooms)
        opts["except"] = list(except)
        opts["flags"] = .object(flags)
        let message = JSObject([
            ("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(7)), ("packet", .object(packet)),
            ("opts", .object(opts)),
        ])
        return try Notepack.encode(.object(message), flavor: .notepack3)
    }

    /// A socket.io-redis 5.x request: `{requestid, type, ...fields}`.
    public static func legacy(requestId: String, type: Int, _ fields: [(String, JSValue)]) -> [UInt8] {
        json([("requestid", .string(requestId)), ("type", .number(Double(type)))] + fields)
    }

    // MARK: Helpers shared with the responses

    static func json(_ pairs: [(String, JSValue)]) -> [UInt8] {
        var output: [UInt8] = []
        var stringifier = JSONStringifier(binary: .nodeJSON)
        stringifier.append(.object(JSObject(pairs)), to: &output)
        return output
    }

    static func list(_ rooms: [Room]) -> JSValue { .array(rooms.map(\.jsValue)) }

    static func options(_ rooms: [Room], _ except: [Room]) -> JSValue {
        .object(JSObject([("rooms", list(rooms)), ("except", list(except))]))
    }
}
