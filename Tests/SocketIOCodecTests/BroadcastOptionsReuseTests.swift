import SocketIOCodec
import Testing

/// The byte path keeps a delivery's rooms, except and flags when the next
/// payload's options map has the same bytes (busd decodes every broadcast
/// into one delivery). Whatever came between, each decode must give what a
/// fresh decoder gives, and equal serials must mean equal options.
@Suite("Broadcast options reuse")
struct BroadcastOptionsReuseTests {
    typealias M = BroadcastBytePathTests.M

    static func options(rooms: [String], except: [String] = [], volatile: Bool? = nil) -> [UInt8] {
        let flags = volatile.map { M.map([(M.str("volatile"), [$0 ? 0xc3 : 0xc2])]) } ?? M.map([])
        return M.map([
            (M.str("rooms"), M.arr(rooms.map(M.str))), (M.str("except"), M.arr(except.map(M.str))), (M.str("flags"), flags),
        ])
    }

    /// Payloads whose options repeat, change, fail or go another path.
    static let sequence: [[UInt8]] = {
        let a = options(rooms: ["roomA"])
        let b = options(rooms: ["roomB"], except: ["roomA"], volatile: true)
        let event = M.event(M.map([(M.str("room"), M.str("roomA"))]))
        return [
            M.broadcast(data: event, options: a),
            M.broadcast(data: M.event(M.str("other data")), options: a),
            M.broadcast(data: event, options: b),
            M.broadcast(data: event, options: b),
            M.broadcast(data: event, options: a),
            // The tree path (type 5), then the same options by the byte path.
            M.broadcast(type: [0x05], data: event, options: a),
            M.broadcast(data: event, options: a),
            // Malformed: the byte path gives up before the options.
            Array(M.broadcast(data: event, options: a).dropLast(3)),
            M.broadcast(data: event, options: a),
            // Options the byte path leaves to the tree path (`socketbus`).
            M.broadcast(data: event, options: M.map([(M.str("rooms"), M.arr([M.str("roomA")])), (M.str("socketbus"), M.map([]))])),
            M.broadcast(data: event, options: a),
            // A packet the byte path refuses (`__proto__`) with the same options.
            M.broadcast(data: event, extra: [(M.str("__proto__"), [0x01])], options: a),
            M.broadcast(data: event, options: a),
            M.broadcast(data: event, options: options(rooms: [])),
            M.broadcast(data: event, options: a),
        ]
    }()

    @Test func everyDecodeEqualsAFreshOne() {
        let decoder = BroadcastDecoder()
        var delivery = BroadcastDelivery()
        for round in 0..<2 {
            for (index, payload) in Self.sequence.enumerated() {
                var fresh = BroadcastDelivery()
                var freshError: CodecError?
                var error: CodecError?
                do { try BroadcastDecoder().decode(payload, into: &fresh) } catch { freshError = error }
                do { try decoder.decode(payload, into: &delivery) } catch let e { error = e }
                let name = "round \(round), payload \(index)"
                #expect((error == nil) == (freshError == nil), "\(name)")
                if error != nil { continue }
                #expect(delivery.rooms == fresh.rooms, "\(name)")
                #expect(delivery.except == fresh.except, "\(name)")
                #expect(delivery.isVolatile == fresh.isVolatile, "\(name)")
                #expect(delivery.compress == fresh.compress, "\(name)")
                #expect(delivery.request == fresh.request, "\(name)")
                #expect(delivery.packet == fresh.packet, "\(name)")
                #expect(delivery.usedByteDecoder == fresh.usedByteDecoder, "\(name)")
            }
        }
    }

    @Test func serialsFollowTheOptions() throws {
        let decoder = BroadcastDecoder()
        var delivery = BroadcastDelivery()
        let a = Self.options(rooms: ["roomA"])
        try decoder.decode(M.broadcast(data: M.event(), options: a), into: &delivery)
        let first = delivery.optionsSerial
        #expect(first != 0)
        try decoder.decode(M.broadcast(data: M.event(M.str("x")), options: a), into: &delivery)
        #expect(delivery.optionsSerial == first)
        try decoder.decode(M.broadcast(data: M.event(), options: Self.options(rooms: ["roomB"])), into: &delivery)
        #expect(delivery.optionsSerial != first && delivery.optionsSerial != 0)
        #expect(delivery.rooms == [.name("roomB")])
        // Back to the first options: read again, under a new serial.
        let second = delivery.optionsSerial
        try decoder.decode(M.broadcast(data: M.event(), options: a), into: &delivery)
        #expect(delivery.optionsSerial != first && delivery.optionsSerial != second)
        #expect(delivery.rooms == [.name("roomA")])
        // The tree path sets no serial.
        try decoder.decode(M.broadcast(type: [0x05], data: M.event(), options: a), into: &delivery)
        #expect(delivery.optionsSerial == 0)
    }

    /// A delivery decoded by one decoder, then by another that last saw the
    /// same options bytes with other rooms in its own delivery: no match.
    @Test func anotherDecodersSerialDoesNotMatch() throws {
        let one = BroadcastDecoder()
        let two = BroadcastDecoder()
        var shared = BroadcastDelivery()
        var other = BroadcastDelivery()
        let a = Self.options(rooms: ["roomA"])
        let b = Self.options(rooms: ["roomB"])
        try two.decode(M.broadcast(data: M.event(), options: a), into: &other)
        try one.decode(M.broadcast(data: M.event(), options: b), into: &shared)
        try two.decode(M.broadcast(data: M.event(), options: a), into: &shared)
        #expect(shared.rooms == [.name("roomA")])
        #expect(shared.optionsSerial != other.optionsSerial || shared.rooms == other.rooms)
    }
}
