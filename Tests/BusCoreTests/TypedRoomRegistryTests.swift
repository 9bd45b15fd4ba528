import BusCore
import SocketIOCodec
import Testing

/// Rooms keep their type in the registry, as in socket.io's own `Set`:
/// `io.to(123)` is not `io.to("123")`.
@Suite("Socket registry: typed rooms")
struct TypedRoomRegistryTests {
    static func sample() -> SocketRegistry {
        var registry = SocketRegistry()
        registry.connect("A", namespace: "/", at: 1)
        registry.connect("B", namespace: "/", at: 2)
        registry.connect("C", namespace: "/chat", at: 3)
        registry.join("A", typedRooms: [.number(123), .name("room1")])
        registry.join("B", typedRooms: [.name("123")])
        registry.join("C", typedRooms: [.number(123)])
        return registry
    }

    @Test func aNumericRoomIsNotTheStringRoom() {
        let registry = Self.sample()
        #expect(registry.select(namespace: "/", typedRooms: [.number(123)], except: []) == ["A"])
        #expect(registry.select(namespace: "/", typedRooms: [.name("123")], except: []) == ["B"])
        #expect(registry.select(namespace: "/", typedRooms: [], except: [.number(123)]) == ["B"])
        #expect(registry.select(namespace: "/", typedRooms: [.name("A")], except: []) == ["A"])
        // A socket id is never a number.
        #expect(registry.select(namespace: "/", typedRooms: [.number(1)], except: []) == [])
    }

    @Test func allRoomsKeepsNumbersAndSocketIds() {
        let registry = Self.sample()
        #expect(
            registry.allRooms(namespace: "/") == [.name("A"), .number(123), .name("room1"), .name("B"), .name("123")]
        )
        #expect(registry.allRooms(namespace: "/chat") == [.name("C"), .number(123)])
        #expect(registry.allRooms(namespace: "/none") == [])
        #expect(registry.rooms(ofSocket: "A", namespace: "/") == [.name("A"), .number(123), .name("room1")])
        #expect(registry.rooms(ofSocket: "A", namespace: "/chat") == nil)
        #expect(registry.rooms(ofSocket: "Z", namespace: "/") == nil)
    }

    @Test func leavingTheNumericRoomLeavesTheStringRoomAlone() {
        var registry = Self.sample()
        registry.join("A", typedRooms: [.name("123")])
        registry.leave("A", typedRooms: [.number(123)])
        #expect(registry.socket("A")?.typedRooms == [.name("room1"), .name("123")])
        #expect(registry.select(namespace: "/", typedRooms: [.name("123")], except: []) == ["A", "B"])
        #expect(registry.select(namespace: "/", typedRooms: [.number(123)], except: []) == [])
    }

    /// The room channel `…#123#` names either room (the adapter's `hasRoom`
    /// tries the number too); the string API of v1 nodes is the name.
    @Test func theRoomChannelTextFindsEither() {
        var registry = SocketRegistry()
        registry.connect("A", namespace: "/", at: 1)
        registry.join("A", typedRooms: [.number(42)])
        #expect(registry.hasRoom("42", namespace: "/"))
        #expect(!registry.hasRoom("43", namespace: "/"))
        registry.join("A", rooms: ["7"])
        #expect(registry.socket("A")?.typedRooms == [.number(42), .name("7")])
        #expect(registry.socket("A")?.rooms == ["42", "7"])
    }
}
