import SocketIOCodec
import Testing

@Suite("Adapter channel names")
struct AdapterChannelTests {
    static let names: [(String, AdapterChannel)] = [
        ("socket.io#/#", .broadcast(key: "socket.io", namespace: "/", room: nil)),
        ("socket.io#/chat#", .broadcast(key: "socket.io", namespace: "/chat", room: nil)),
        ("socket.io#/#room1#", .broadcast(key: "socket.io", namespace: "/", room: "room1")),
        ("socket.io#/#42#", .broadcast(key: "socket.io", namespace: "/", room: "42")),
        ("socket.io#/chat#/chat#Jc9xPq2LmZ0wE4rTAAAB#", .broadcast(key: "socket.io", namespace: "/chat", room: "/chat#Jc9xPq2LmZ0wE4rTAAAB")),
        ("socket.io-request#/#", .request(key: "socket.io", namespace: "/")),
        ("socket.io-response#/admin#", .response(key: "socket.io", namespace: "/admin", uid: nil)),
        ("socket.io-response#/#aB3dE5#", .response(key: "socket.io", namespace: "/", uid: "aB3dE5")),
        ("myapp#/dyn-123#", .broadcast(key: "myapp", namespace: "/dyn-123", room: nil)),
    ]

    @Test(arguments: names)
    func parsesAndFormats(_ name: String, _ channel: AdapterChannel) throws {
        #expect(try AdapterChannel(parsing: name) == channel)
        #expect(channel.name == name)
    }

    @Test func legacyRoomChannelWithoutTrailingHash() throws {
        // socket.io-redis 5.0.0 published `<key>#<nsp>#<room>`.
        #expect(try AdapterChannel(parsing: "socket.io#/#room1") == .broadcast(key: "socket.io", namespace: "/", room: "room1"))
    }

    @Test func explicitKeyWithHashesInIt() throws {
        let channel = try AdapterChannel(parsing: "my#key-request#/#", key: "my#key")
        #expect(channel == .request(key: "my#key", namespace: "/"))
    }

    @Test(arguments: ["socket.io", "socket.io#", "socket.io#chat#", "other#/#"])
    func refusesNonAdapterNames(_ name: String) {
        #expect(throws: CodecError.self) { _ = try AdapterChannel(parsing: name, key: "socket.io") }
    }

    @Test func patternsEscapeGlobCharacters() {
        #expect(AdapterChannel.broadcastPattern(key: "socket.io", namespace: "/") == "socket.io#/#*")
        #expect(AdapterChannel.broadcastPattern(key: "a*b", namespace: "/x?[y]") == #"a\*b#/x\?\[y\]#*"#)
        #expect(AdapterChannel.exactPattern("socket.io-request#/#") == "socket.io-request#/#")
    }
}
