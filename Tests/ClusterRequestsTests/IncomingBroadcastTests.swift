import ClusterRequests
import SocketIOCodec
import Testing

/// BROADCAST (7) with acks from a stock node (captured seq 28–31: n1's
/// `io.timeout(2000).emit('ev', {ask:1}, cb)` answered by n2).
@Suite("Incoming acked broadcasts")
struct IncomingBroadcastTests {
    static func capture(_ seq: Int) -> [UInt8] {
        Captured.lines.first { $0["seq"]?.numberValue == Double(seq) }.flatMap { $0["hex"]?.stringValue }
            .map(Captured.bytes(hex:)) ?? []
    }

    var machine = IncomingRequests(settings: .init(uid: "busdUI"))

    mutating func receive(_ node: NodePresence, seq: Int = 28, isOwn: Bool = false, now: UInt64 = 0) throws
        -> [ClusterAction]
    {
        machine.receive(
            try request(bytes: Self.capture(seq)),
            namespace: "/",
            node: node,
            registry: FixedRegistry.sample,
            isOwn: isOwn,
            now: now,
            nextAckId: { 7 }
        )
    }

    @Test mutating func v2NodeDeliversByItsRoomsThenCountAndAcksAreTheStockBytes() throws {
        let actions = try receive(.v2)
        guard case .deliver(let delivery)? = actions.first, actions.count == 1 else {
            Issue.record("expected only a delivery, got \(actions)")
            return
        }
        #expect(delivery.ackId == 7)
        #expect(delivery.socketIds == nil)
        #expect(delivery.rooms.isEmpty && delivery.except.isEmpty)
        #expect(delivery.packet.string == #"27["ev",{"ask":1}]"#)
        #expect(machine.ownsAck(7))
        // DELIVERED from the node: n2 wrote to A and C (seq 29).
        let counted = machine.delivered(ackId: 7, socketIds: ["A", "C"])
        #expect(counted == [.publish(channel: "socket.io-response#/#", payload: Self.capture(29))])
        // A second DELIVERED does not count twice.
        #expect(machine.delivered(ackId: 7, socketIds: ["A"]).isEmpty)
        // Client A's ack (seq 30) and C's (seq 31).
        let a = JSValue.object(JSObject([("client", .string("A")), ("event", .string("ev")), ("n", .number(1))]))
        let c = JSValue.object(JSObject([("client", .string("C")), ("event", .string("ev")), ("n", .number(1))]))
        #expect(
            machine.acked(ackId: 7, arguments: [a, .string("ignored second argument")]) == [
                .publish(channel: "socket.io-response#/#", payload: Self.capture(30))
            ]
        )
        #expect(
            machine.acked(ackId: 7, arguments: [c]) == [
                .publish(channel: "socket.io-response#/#", payload: Self.capture(31))
            ]
        )
        // Ack ids that are not a cluster broadcast's are left to the delivery tracker.
        #expect(machine.acked(ackId: 8, arguments: [a]) == nil)
    }

    @Test mutating func v1NodeDeliversToTheRegistrysTargetsAndCountsAtOnce() throws {
        // seq 35: to roomB; the registry has nobody there.
        #expect(texts(try receive(.v1, seq: 35)) == [#"{"type":8,"requestId":"vUSV9s","clientCount":0}"#])
        let actions = try receive(.v1, seq: 28)
        guard case .deliver(let delivery)? = actions.first else {
            Issue.record("expected a delivery")
            return
        }
        #expect(delivery.socketIds == ["S1", "S2"])
        #expect(texts(actions) == [#"{"type":8,"requestId":"bpevJE","clientCount":2}"#])
    }

    @Test mutating func noNodeCountsZeroClients() throws {
        #expect(texts(try receive(.absent)) == [#"{"type":8,"requestId":"bpevJE","clientCount":0}"#])
        #expect(machine.pendingBroadcasts == 0)
    }

    @Test mutating func ownBroadcastIsNotDeliveredAgain() throws {
        #expect(try receive(.v2, isOwn: true).isEmpty)
    }

    @Test mutating func noDeliveredWithinTheBoundCountsZeroAndIsCounted() throws {
        var settings = IncomingRequests.Settings(uid: "busdUI")
        settings.nodeAnswerTimeoutMilliseconds = 1000
        machine = IncomingRequests(settings: settings)
        _ = try receive(.v2, now: 100)
        #expect(machine.expire(now: 1099).isEmpty)
        let expired = machine.expire(now: 1100)
        #expect(expired.first == .nodeAnswerMissed(kind: "delivered"))
        #expect(texts(expired) == [#"{"type":8,"requestId":"bpevJE","clientCount":0}"#])
        // A late DELIVERED does not count again; acks still go through until the time-out.
        #expect(machine.delivered(ackId: 7, socketIds: ["A"]).isEmpty)
        #expect(machine.acked(ackId: 7, arguments: []) != nil)
    }

    @Test mutating func theRequestsTimeoutEndsTheRelay() throws {
        _ = try receive(.v2, now: 0)
        _ = machine.delivered(ackId: 7, socketIds: ["A"])
        #expect(machine.nextDeadline == 2000)  // flags.timeout 2000
        _ = machine.expire(now: 2000)
        #expect(machine.pendingBroadcasts == 0)
        #expect(machine.acked(ackId: 7, arguments: []) == nil)
    }

    @Test mutating func aNumericRoomStaysANumberForTheNode() throws {
        var machine = IncomingRequests(settings: .init(uid: "busdUI"))
        let message = BroadcastMessage(
            uid: "osO7f9",
            data: [.string("ev")],
            namespace: "/",
            rooms: [.number(123)],
            except: [.name("123")]
        )
        var json = JSObject()
        json["uid"] = .string("osO7f9")
        json["requestId"] = .string("abcdef")
        json["type"] = .number(7)
        json["packet"] = .object(message.packet)
        json["opts"] = .object(message.options)
        let payload = try Notepack.encode(.object(json))
        let actions = machine.receive(
            try request(bytes: payload),
            namespace: "/",
            node: .v2,
            registry: FixedRegistry.sample,
            isOwn: false,
            now: 0,
            nextAckId: { 9 }
        )
        guard case .deliver(let delivery)? = actions.first else {
            Issue.record("expected a delivery")
            return
        }
        #expect(delivery.rooms == [.number(123)])
        #expect(delivery.except == [.name("123")])
    }

    @Test mutating func theNodeGoingAwayCountsWhatItDidNotReport() throws {
        _ = try receive(.v2)
        #expect(texts(machine.nodeGone()) == [#"{"type":8,"requestId":"bpevJE","clientCount":0}"#])
    }

    /// Binary arguments become attachments, and the ack id goes after the
    /// attachment count, as socket.io-parser writes them for the receiving node.
    @Test mutating func binaryArgumentsBecomeAttachments() throws {
        let message = BroadcastMessage(
            uid: "osO7f9",
            data: [.string("file"), .buffer([1, 2, 3])],
            namespace: "/chat"
        )
        let json = JSObject([
            ("uid", .string("osO7f9")), ("requestId", .string("abcdef")), ("type", .number(7)),
            ("packet", .object(message.packet)), ("opts", .object(message.options)),
        ])
        let actions = machine.receive(
            try request(bytes: try Notepack.encode(.object(json))),
            namespace: "/chat",
            node: .v2,
            registry: FixedRegistry.sample,
            isOwn: false,
            now: 0,
            nextAckId: { 12 }
        )
        guard case .deliver(let delivery)? = actions.first else {
            Issue.record("expected a delivery")
            return
        }
        #expect(delivery.packet.string == #"51-/chat,12["file",{"_placeholder":true,"num":0}]"#)
        #expect(delivery.packet.attachments == [[1, 2, 3]])
        #expect(machine.delivered(ackId: 12, socketIds: []).first?.publishedChannel == "socket.io-response#/chat#")
    }
    @Test mutating func aNodeBufferInAnAckIsPublishedAsMsgpackBin() throws {
        _ = try receive(.v2)
        _ = machine.delivered(ackId: 7, socketIds: ["A"])
        func buffer(_ data: [Double], extra: Bool = false) -> JSValue {
            var pairs: [(String, JSValue)] = [("type", .string("Buffer")), ("data", .array(data.map(JSValue.number)))]
            if extra { pairs.append(("x", .null)) }
            return .object(JSObject(pairs))
        }
        let cases: [(JSValue, JSValue)] = [
            (buffer([1, 2, 255]), .buffer([1, 2, 255])),
            (.array([buffer([0])]), .array([.buffer([0])])),
            (.object(JSObject([("file", buffer([7]))])), .object(JSObject([("file", .buffer([7]))]))),
            // Lookalikes stay what they are.
            (buffer([256]), buffer([256])),
            (buffer([1.5]), buffer([1.5])),
            (buffer([1], extra: true), buffer([1], extra: true)),
        ]
        for (sent, published) in cases {
            let actions = machine.acked(ackId: 7, arguments: [sent])
            let expected = try ResponseEncoding.broadcastAck(requestId: "bpevJE", argument: published)
            guard case .publish(_, let payload)? = actions?.first else {
                Issue.record("no publish for \(sent)")
                continue
            }
            #expect(payload == expected, "\(sent)")
        }
    }
}
