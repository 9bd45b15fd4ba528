import LocalProtocol
import SocketIOCodec

// The local protocol's rooms and the codec's are the same two kinds: a name
// or a number (numbers stay numbers, as socket.io keeps them).

extension LocalRoom {
    init(_ room: Room) {
        switch room {
        case .name(let name): self = .name(name)
        case .number(let number): self = .number(number)
        }
    }
}

extension Room {
    init(_ room: LocalRoom) {
        switch room {
        case .name(let name): self = .name(name)
        case .number(let number): self = .number(number)
        }
    }
}
