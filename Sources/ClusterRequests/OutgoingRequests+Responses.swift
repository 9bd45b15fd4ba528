public import SocketIOCodec

extension OutgoingRequests {
    /// A message on a response channel; answers to requests busd did not
    /// publish are ignored (they are other servers' business).
    public mutating func response(_ message: ResponseMessage) -> [ClusterAction] {
        guard let requestId = message.requestId else { return [] }
        if let relay = relaying[requestId] {
            switch message.kind {
            case .broadcastClientCount(let n):
                return [.ackCount(request: relay.request, clientCount: UInt32(clamping: n))]
            case .broadcastAck(let argument):
                return [.ackArgument(request: relay.request, argument: JSONText.bytes(argument))]
            default:
                return []
            }
        }
        guard var collector = collecting[requestId] else { return [] }
        // As the stock requester: every answer counts, only well-formed content is kept.
        collector.received += 1
        switch collector.kind {
        case .fetchSockets:
            if let sockets = message.value["sockets"]?.arrayValue {
                collector.socketArrays.append(JSONText.bytes(.array(sockets))[...])
            }
        case .allRooms:
            for room in message.value["rooms"]?.arrayValue ?? [] where collector.seen.insert(room).inserted {
                collector.values.append(room)
            }
        case .serverSideEmitWithAck:
            guard case .serverSideEmit(let data) = message.kind else {
                collector.received -= 1
                return []
            }
            collector.values.append(data)
        default:
            break
        }
        return counted(collector, requestId)
    }

    /// A JSON answer to a fetchSockets busd published, already checked with
    /// ``JSONSkim`` by the caller (off the machines' lock): `socketsArray`
    /// is its `sockets` member's text when that is an array. Counted as
    /// ``response(_:)`` counts it; the sockets are never parsed.
    public mutating func fetchedSockets(requestId: String, socketsArray: ArraySlice<UInt8>?) -> [ClusterAction] {
        guard var collector = collecting[requestId], collector.kind == .fetchSockets else { return [] }
        collector.received += 1
        if let socketsArray { collector.socketArrays.append(socketsArray) }
        return counted(collector, requestId)
    }

    private mutating func counted(_ collector: Collecting, _ requestId: String) -> [ClusterAction] {
        guard collector.received >= collector.expected else {
            collecting[requestId] = collector
            return []
        }
        collecting[requestId] = nil
        return [reply(collector, .complete)]
    }

    /// `{"sockets":[…]}`: the answers' arrays joined, their elements as they came.
    static func joinedSockets(_ arrays: [ArraySlice<UInt8>]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(arrays.reduce(16) { $0 + $1.count })
        output.append(contentsOf: #"{"sockets":["#.utf8)
        var first = true
        for array in arrays {
            // Between the brackets, without the white space around the elements.
            guard let open = array.firstIndex(of: UInt8(ascii: "[")),
                let close = array.lastIndex(of: UInt8(ascii: "]")), open < close
            else { continue }
            let inner = array[(open + 1)..<close]
            guard let start = inner.firstIndex(where: { !Self.isJSONSpace($0) }),
                let end = inner.lastIndex(where: { !Self.isJSONSpace($0) })
            else { continue }
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            output.append(contentsOf: inner[start...end])
        }
        output.append(contentsOf: "]}".utf8)
        return output
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09
    }

    /// BROADCAST_WITH_ACK from the node: publish the msgpack BROADCAST and
    /// relay counts and acks for `timeoutMilliseconds`. The node delivered
    /// to its own sockets itself.
    public mutating func broadcastWithAck(
        _ request: UInt32,
        namespace: String,
        packet: SocketIOPacket,
        rooms: [Room],
        except: [Room],
        flags: JSObject,
        timeoutMilliseconds: UInt32,
        now: UInt64
    ) -> [ClusterAction] {
        guard packet.type == 2 || packet.type == 5, case .array? = packet.data else {
            return [Self.failure(request, "an acked broadcast is an event")]
        }
        // socket.io 4 keeps EVENT (2) on the wire; the parser picks 5 itself.
        let map = JSObject([("type", .number(2)), ("data", packet.data ?? .undefined), ("nsp", .string(namespace))])
        var requestId = makeRequestId()
        while collecting[requestId] != nil || relaying[requestId] != nil { requestId = makeRequestId() }
        guard
            let payload = try? RequestEncoding.broadcastWithAck(
                uid: settings.uid,
                requestId: requestId,
                packet: map,
                rooms: rooms,
                except: except,
                flags: flags
            )
        else { return [Self.failure(request, "the packet cannot be encoded")] }
        relaying[requestId] = Relaying(request: request, expiry: Deadline.after(now, UInt64(timeoutMilliseconds)))
        earliest.note(Deadline.after(now, UInt64(timeoutMilliseconds)))
        return [.publish(channel: settings.channels.request(namespace), payload: payload)]
    }

    /// Time-outs due at `now`: partial replies with status 1; relays forgotten.
    public mutating func expire(now: UInt64) -> [ClusterAction] {
        guard earliest.isDue(now) else { return [] }
        defer { earliest.reset(to: nextDeadline) }
        var actions: [ClusterAction] = []
        for (request, waiting) in counting.sorted(by: { $0.key < $1.key }) where waiting.deadline <= now {
            counting[request] = nil
            let collector = Collecting(request: request, kind: waiting.kind, expected: 0, deadline: waiting.deadline)
            actions.append(reply(collector, .timedOut))
        }
        for (requestId, collector) in collecting.sorted(by: { $0.value.request < $1.value.request })
        where collector.deadline <= now {
            collecting[requestId] = nil
            actions.append(reply(collector, .timedOut))
        }
        for (requestId, relay) in relaying where relay.expiry <= now { relaying[requestId] = nil }
        return actions
    }

    /// The node's session ended: nobody is left to reply to.
    public mutating func nodeGone() {
        counting = [:]
        collecting = [:]
        relaying = [:]
        earliest.reset(to: nil)
    }

    /// The stock `flags` of an acked broadcast: modifiers first, `timeout` last.
    public static func flags(volatile: Bool, compress: Bool?, timeoutMilliseconds: UInt32) -> JSObject {
        var flags = JSObject()
        if volatile { flags["volatile"] = .bool(true) }
        if let compress { flags["compress"] = .bool(compress) }
        flags["timeout"] = .number(Double(timeoutMilliseconds))
        return flags
    }

    func reply(_ collector: Collecting, _ status: ClusterReplyStatus) -> ClusterAction {
        let body: JSObject
        switch collector.kind {
        case .fetchSockets:
            return .reply(request: collector.request, status: status, body: Self.joinedSockets(collector.socketArrays))
        case .allRooms: body = JSObject([("rooms", .array(collector.values))])
        case .serverSideEmitWithAck:
            body = JSObject([
                ("responses", .array(collector.values)), ("expected", .number(Double(collector.expected))),
            ])
        case .serverCount:
            // Only a time-out gets here before NUMSUB answered.
            return Self.failure(collector.request, "timeout reached while counting the servers")
        default: body = JSObject()
        }
        return Self.reply(collector.request, status, .object(body))
    }

    static func reply(_ request: UInt32, _ status: ClusterReplyStatus, _ body: JSValue) -> ClusterAction {
        .reply(request: request, status: status, body: JSONText.bytes(body))
    }

    static func failure(_ request: UInt32, _ message: String) -> ClusterAction {
        reply(request, .failed, .object(JSObject([("error", .string(message))])))
    }
}
