public import MsgPack

/// A best guess at which library published a broadcast, from the traces each
/// version leaves: the uid, the key order of `opts`, the packet type, and
/// which notepack dialect's ext types appear.
public struct ProducerGuess: Sendable, Hashable, CustomStringConvertible {
    public var producer: String
    /// The notepack dialect, when the payload shows one (many payloads don't).
    public var flavor: NotepackFlavor?

    public var description: String {
        guard let flavor else { return producer }
        return "\(producer); \(flavor == .notepack2 ? "notepack.io 2.x" : "notepack.io 3.x") ext types"
    }

    public init(message: BroadcastMessage, flavor: NotepackFlavor?) {
        self.flavor = flavor
        let keys = message.options.properties.map(\.key)
        let binaryType = message.packetType == 5
        let legacyFlag = message.flags["broadcast"] != nil || message.flags["json"] != nil || message.flags["binary"] != nil
        if message.uid == "emitter" {
            switch keys {
            case ["rooms", "flags", "except"]:
                switch flavor {
                case .notepack2?: producer = "@socket.io/redis-emitter 4.x (notepack 2)"
                case .notepack3?: producer = "@socket.io/redis-emitter 5.x"
                case nil: producer = "@socket.io/redis-emitter 4.x or 5.x"
                }
            case ["rooms", "flags"]:
                producer =
                    binaryType
                    ? "socket.io-emitter 1.x/2.x or 3.1.2 (for socket.io 2.x)"
                    : "socket.io-emitter 1.x–3.x"
            default:
                producer = "an emitter (uid \"emitter\") with opts keys \(keys)"
            }
            return
        }
        switch keys {
        case ["except", "rooms", "flags"]:
            producer = "socket.io-redis 5.x + socket.io 2.x (Socket#emit)"
        case ["rooms", "flags"]:
            producer = "socket.io-redis 5.x + socket.io 2.x (Namespace#emit)"
        case ["rooms", "except", "flags"]:
            if legacyFlag {
                producer = "socket.io-redis 6.0.x + socket.io 3.x"
            } else {
                switch flavor {
                case .notepack2?: producer = "socket.io-redis 6.x or @socket.io/redis-adapter 7.x (socket.io 3/4)"
                case .notepack3?: producer = "@socket.io/redis-adapter 8.x (socket.io 4)"
                case nil: producer = "socket.io-redis 6.x or @socket.io/redis-adapter 7.x–8.x (socket.io 3/4)"
                }
            }
        default:
            producer = "an adapter (uid \(message.uid)) with opts keys \(keys)"
        }
    }

    /// Which notepack dialect a payload's ext values show, if any: ext type 0
    /// (undefined, Date, ArrayBuffer) is notepack 2, timestamp ext -1 notepack 3.
    public static func flavorEvidence(_ object: MsgPackObject) -> NotepackFlavor? {
        switch object.kind {
        case .ext:
            if object.extType == 0 { return .notepack2 }
            if object.extType == -1 { return .notepack3 }
            return nil
        case .array:
            for i in 0..<object.count {
                if let found = flavorEvidence(object[i]) { return found }
            }
            return nil
        case .map:
            for i in 0..<object.count {
                if let found = flavorEvidence(object.value(at: i)) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
