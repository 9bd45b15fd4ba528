import SocketIOCodec

/// The few @socket.io/redis-adapter 8.x requests busctl publishes itself,
/// laid out as the adapter lays them out (key order included), so stock
/// nodes answer them as they answer each other.
///
/// Kept private to busctl: SocketIOCodec grows general request encoders
/// separately; these are just what `find-socket` and `emit --wait-ack` need.
enum AdapterRequests {
    /// `fetchSockets()` (REMOTE_FETCH, type 5): JSON
    /// `{uid, requestId, type, opts: {rooms, except}}`.
    static func fetch(uid: String, requestId: String, rooms: [Room], except: [Room]) -> [UInt8] {
        let value = JSValue.object(
            JSObject([
                ("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(5)),
                (
                    "opts",
                    .object(
                        JSObject([
                            ("rooms", .array(rooms.map(\.jsValue))), ("except", .array(except.map(\.jsValue))),
                        ])
                    )
                ),
            ])
        )
        // The request holds only strings, numbers and arrays: it always stringifies.
        return Array((JSONStringifier.string(value) ?? "{}").utf8)
    }

    /// SOCKETS (type 0), the ids in `rooms` (all when empty): JSON
    /// `{uid, requestId, type, rooms}`, as 6.x/7.x sent it; 8.x still answers it.
    static func sockets(uid: String, requestId: String, rooms: [Room]) -> [UInt8] {
        let value = JSValue.object(
            JSObject([
                ("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(0)),
                ("rooms", .array(rooms.map(\.jsValue))),
            ])
        )
        return Array((JSONStringifier.string(value) ?? "{}").utf8)
    }

    /// `io.timeout(t).emit(..., cb)` (BROADCAST, type 7): msgpack
    /// `{uid, requestId, type, packet: {type, data, nsp}, opts: {rooms, except, flags}}`,
    /// with `flags.timeout` as socket.io's BroadcastOperator sets it.
    static func broadcastWithAck(
        uid: String,
        requestId: String,
        data: [JSValue],
        namespace: String,
        rooms: [Room],
        except: [Room],
        flags: JSObject
    ) throws(CodecError) -> [UInt8] {
        let packet = JSObject([("type", .number(2)), ("data", .array(data)), ("nsp", .string(namespace))])
        let options = JSObject([
            ("rooms", .array(rooms.map(\.jsValue))), ("except", .array(except.map(\.jsValue))),
            ("flags", .object(flags)),
        ])
        return try Notepack.encode(
            .object(
                JSObject([
                    ("uid", .string(uid)), ("requestId", .string(requestId)), ("type", .number(7)),
                    ("packet", .object(packet)), ("opts", .object(options)),
                ])
            )
        )
    }

    /// A uid2(6)-like id: the adapter's uids and request ids are 6 characters
    /// of this alphabet; each request of busctl gets a fresh one.
    static func randomId(length: Int = 6) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "x" })
    }
}
