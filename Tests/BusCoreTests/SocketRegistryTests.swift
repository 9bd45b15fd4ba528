import BusCore
import SocketIOCodec
import Testing

@Suite("Socket registry")
struct SocketRegistryTests {
    @Test func connectJoinSelectDisconnect() {
        var registry = SocketRegistry()
        let change = registry.connect("A", namespace: "/", at: 1)
        #expect(change == .owned(socketId: "A", namespace: "/", connectedAt: 1))
        registry.connect("B", namespace: "/", at: 2)
        registry.connect("C", namespace: "/", at: 3)
        registry.connect("X", namespace: "/chat", at: 4)
        let joined = registry.join("A", rooms: ["roomA", "roomC"])
        #expect(joined)
        registry.join("B", rooms: ["roomB"])
        registry.join("C", rooms: ["roomC"])
        let joinedUnknown = registry.join("nobody", rooms: ["r"])
        #expect(!joinedUnknown)

        #expect(registry.select(namespace: "/", rooms: [], except: []) == ["A", "B", "C"])
        #expect(registry.select(namespace: "/", rooms: ["roomA", "roomB"], except: ["roomC"]) == ["B"])
        #expect(registry.select(namespace: "/", rooms: [], except: ["roomA"]) == ["B", "C"])
        // A socket id is a room of its own.
        #expect(registry.select(namespace: "/", rooms: ["B"], except: []) == ["B"])
        #expect(registry.select(namespace: "/chat", rooms: [], except: []) == ["X"])
        #expect(registry.select(namespace: "/nope", rooms: [], except: []) == [])
        // The same ids as bytes (a long id, kept as a String inside, too).
        let long = String(repeating: "L", count: 30)
        registry.connect(long, namespace: "/", at: 5)
        for (rooms, except) in [([Room](), [Room]()), ([.name("roomA"), .name("roomB")], []), ([], [.name("roomA")])] {
            var ids: [String] = []
            registry.forEachSelectedId(namespace: "/", typedRooms: rooms, except: except) {
                ids.append(String(decoding: $0, as: UTF8.self))
            }
            #expect(ids == registry.select(namespace: "/", typedRooms: rooms, except: except))
        }
        #expect(registry.select(namespace: "/", rooms: [], except: []) == ["A", "B", "C", long])
        // Answers written from the registry's bytes are the bytes of the value encoders.
        _ = registry.join(long, typedRooms: [.number(7), .name("roomA")])
        #expect(
            ResponseEncoding.allRooms(requestId: "r1") { registry.writeRooms(namespace: "/", to: &$0) }
                == ResponseEncoding.allRooms(requestId: "r1", rooms: registry.allRooms(namespace: "/"))
        )
        for (rooms, except) in [([Room](), [Room]()), ([.name("roomA")], [.name("B")]), ([], [.number(7)])] {
            let written = ResponseEncoding.fetchedSockets(requestId: "r2") {
                registry.writeSockets(namespace: "/", typedRooms: rooms, except: except, to: &$0)
            }
            let ids = registry.select(namespace: "/", typedRooms: rooms, except: except)
            let values = ids.map {
                ResponseEncoding.registrySocket(id: $0, rooms: registry.rooms(ofSocket: $0, namespace: "/") ?? [])
            }
            #expect(written == ResponseEncoding.fetchedSockets(requestId: "r2", sockets: values))
        }
        registry.disconnect(long)
        #expect(registry.hasRoom("roomC", namespace: "/"))
        #expect(registry.hasRoom("A", namespace: "/"))
        #expect(!registry.hasRoom("roomC", namespace: "/chat"))

        registry.leave("A", rooms: ["roomC"])
        #expect(registry.select(namespace: "/", rooms: ["roomC"], except: []) == ["C"])
        let first = registry.disconnect("C")
        let second = registry.disconnect("C")
        #expect(first == .disowned(socketId: "C"))
        #expect(second == nil)
        #expect(!registry.hasRoom("roomC", namespace: "/"))
        #expect(registry.socket("A") == SocketRegistry.Socket(id: "A", namespace: "/", rooms: ["roomA"], connectedAt: 1))
        #expect(registry.count == 3)
    }

    @Test func slotsAreReusedAndIdsSurvive() {
        var registry = SocketRegistry()
        for i in 0..<100 { registry.connect("socket-\(i)-xxxxxxxxxxxx", namespace: "/", at: Int64(i)) }
        for i in stride(from: 0, to: 100, by: 2) { registry.disconnect("socket-\(i)-xxxxxxxxxxxx") }
        for i in 100..<150 { registry.connect("socket-\(i)-xxxxxxxxxxxx", namespace: "/", at: Int64(i)) }
        #expect(registry.count == 100)
        var seen = Set<String>()
        registry.forEachSocket { id, _, _ in seen.insert(id) }
        #expect(seen.count == 100)
        #expect(seen.contains("socket-149-xxxxxxxxxxxx") && !seen.contains("socket-0-xxxxxxxxxxxx"))
    }

    @Test func longIdsOfSocketIO2() {
        var registry = SocketRegistry()
        let id = "/chat#Jc9xPq2LmZ0wE4rTAAAB"  // 26 bytes: kept outside the inline form
        registry.connect(id, namespace: "/chat", at: 5)
        #expect(registry.socket(id)?.namespace == "/chat")
        #expect(registry.select(namespace: "/chat", rooms: [id], except: []) == [id])
    }

    @Test func reconnectWithTheSameIdReplaces() {
        var registry = SocketRegistry()
        registry.connect("A", namespace: "/", at: 1)
        registry.join("A", rooms: ["r"])
        registry.connect("A", namespace: "/", at: 9)
        #expect(registry.count == 1)
        #expect(registry.socket("A")?.rooms == [])
        #expect(registry.socket("A")?.connectedAt == 9)
    }
}

@Suite("Redis URLs")
struct RedisConfigurationTests {
    @Test(arguments: [
        ("redis://localhost", "redis://localhost:6379/0", nil as String?, nil as String?),
        ("redis://127.0.0.1:6390/3", "redis://127.0.0.1:6390/3", nil, nil),
        ("redis://:s3cret@h:1", "redis://:***@h:1/0", nil, "s3cret"),
        ("redis://alice:p%40ss@h/2", "redis://alice:***@h:6379/2", "alice", "p@ss"),
        ("redis://[::1]:7000", "redis://[::1]:7000/0", nil, nil),
        ("unix:///run/redis.sock?db=4&password=x", "unix:///run/redis.sock?db=4&password=***", nil, "x"),
    ])
    func parses(_ url: String, _ shown: String, _ user: String?, _ password: String?) throws {
        let config = try RedisConfiguration(url: url)
        #expect(config.description == shown)
        #expect(config.username == user)
        #expect(config.password == password)
    }

    @Test(arguments: ["http://h", "redis://h:0", "redis://h:99999", "redis://h/x", "redis://", "unix://relative.sock", "unix:///s?db=-1", "unix:///s?colour=red"])
    func refuses(_ url: String) {
        #expect(throws: RedisConfiguration.ParseError.self) { _ = try RedisConfiguration(url: url) }
    }

    // rediss:// is TLS now (issue 14): the refused URLs are of other kinds.
    @Test(arguments: ["redis://u:topsecret@h:port", "rediss://u:topsecret@h?ssl_bogus=1", "memcache://u:topsecret@h"])
    func errorsDoNotLeakThePassword(_ url: String) {
        let error = #expect(throws: RedisConfiguration.ParseError.self) { _ = try RedisConfiguration(url: url) }
        #expect(error?.description.contains("topsecret") == false)
    }
}
