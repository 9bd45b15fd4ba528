/// What busd needs from one broadcast to deliver it to its node: who it is
/// for, how, and the exact packet the node writes to each socket.
///
/// Reused across messages (arrays keep their capacity), so the steady state
/// of the hot path allocates little.
public struct BroadcastDelivery: Sendable {
    public var uid: String = ""
    public var namespace: String = "/"
    /// Target rooms; empty means every socket of the namespace.
    public var rooms: [Room] = []
    /// Rooms whose sockets are excluded.
    public var except: [Room] = []
    public var isVolatile = false
    /// nil when unset.
    public var compress: Bool?
    /// An ack id the packet already carries.
    public var existingAckId: Double?
    /// What the publisher asked of socketbus (opts `socketbus`), if anything.
    public var request: DeliveryRequest?
    /// The encoded packet string (no engine.io `4` prefix).
    public var packet: [UInt8] = []
    public var attachments: [[UInt8]] = []
    /// True when the fast path could not handle the message and the general
    /// decoder produced it (unusual keys, ext types, legacy binary types).
    public var usedGeneralPath = false
    /// True when the byte path (one pass over the payload, no msgpack-c
    /// tree) produced it.
    public var usedByteDecoder = false
    /// Nonzero when the byte path read `rooms`, `except` and the flags from
    /// the options map, or kept them because the map's bytes were those of
    /// the delivery's last decode: two deliveries with the same nonzero
    /// number have the same options (numbers are never reused). Lets a
    /// router reuse what it made of the rooms without comparing them.
    public internal(set) var optionsSerial: UInt64 = 0

    public init() {}

    /// Back to a fresh delivery. With `keepingPacket`, the packet is left
    /// for the fast path to overwrite in one call (clearing it first costs
    /// as much as the copy); the decoder clears it if the fast path fails.
    /// With `keepingOptions`, the options (rooms, except, flags and their
    /// serial) are left for the byte path, which keeps them when the
    /// options map is the last one's or clears them (``resetOptions()``).
    mutating func reset(keepingPacket: Bool = false, keepingOptions: Bool = false) {
        uid = ""
        namespace = "/"
        if !keepingOptions { resetOptions() }
        existingAckId = nil
        request = nil
        if !keepingPacket && !packet.isEmpty { packet.removeAll(keepingCapacity: true) }
        if !attachments.isEmpty { attachments.removeAll(keepingCapacity: true) }
        usedGeneralPath = false
        usedByteDecoder = false
    }

    /// No rooms, no except, no flags, no serial.
    mutating func resetOptions() {
        // removeAll(keepingCapacity:) goes through the generic replaceSubrange
        // (~60 instructions on an empty array, ~170 on a list of one room);
        // removeLast() is Array's own and keeps the capacity too. Most
        // messages have one room or none, and no except.
        while !rooms.isEmpty { rooms.removeLast() }
        while !except.isEmpty { except.removeLast() }
        isVolatile = false
        compress = nil
        optionsSerial = 0
    }
}
