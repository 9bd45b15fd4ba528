/// The channels a fuzz input picks from by its first byte, and the registry
/// those channels meet. scripts/fuzz-seeds.py reads `channels` from this
/// file for its seeds: keep it one string literal a line.
enum ChannelTable {
    static let channels: [[UInt8]] = [
        "socket.io#/#",
        "socket.io#/#room-a#",
        "socket.io#/#sidA0000000000000000#",
        "socket.io-request#/#",
        "socket.io-response#/#",
        "socket.io#/chat#",
        "socket.io#/chat#room-b#",
        "socket.io-request#/chat#",
        "socket.io#/#room-b#",
        "socket.io-response#/#aB3dE5#",
    ].map { Array($0.utf8) }

    /// (channel, payload), or nil when a spelled-out channel is cut short.
    static func split(_ input: UnsafeBufferPointer<UInt8>) -> ([UInt8], [UInt8])? {
        let choice = Int(input[0] & 0x7f)
        if choice < channels.count {
            return (channels[choice], Array(input[1...]))
        }
        guard input.count >= 2, input.count >= 2 + Int(input[1]) else { return nil }
        let end = 2 + Int(input[1])
        return (Array(input[2..<end]), Array(input[end...]))
    }
}

enum Registry {
    /// (socket id, namespace, rooms): each socket is also in its own id's room.
    static let sockets: [(String, String, [String])] = [
        ("sidA0000000000000000", "/", ["room-a"]),
        ("sidB0000000000000000", "/", ["room-a", "room-b"]),
        ("sidC0000000000000000", "/", []),
        ("sidD0000000000000000", "/chat", ["room-b"]),
        ("sidE0000000000000000", "/chat", ["room-a", "room-c"]),
    ]
}
