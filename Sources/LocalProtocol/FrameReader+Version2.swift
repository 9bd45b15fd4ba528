/// The body readers of version 2: typed rooms and the frames that carry them.
extension FrameReader {
    /// A tagged room (version 2): a string, or a finite f64be.
    mutating func room(_ what: String) throws(LocalProtocolError) -> LocalRoom {
        let tag = try u8(what)
        switch tag {
        case LocalRoom.nameTag:
            return .name(try string(what))
        case LocalRoom.numberTag:
            let number = Double(bitPattern: try u64(what))
            guard number.isFinite else {
                throw LocalProtocolError(.malformedFrame, "\(what) holds a number that is not finite")
            }
            return .number(number)
        default:
            throw LocalProtocolError(.malformedFrame, "\(what) holds a room tag 0x\(String(tag, radix: 16))")
        }
    }

    mutating func rooms(_ what: String) throws(LocalProtocolError) -> [LocalRoom] {
        let count = Int(try u32(what))
        // Each room takes at least its tag and a string's two length bytes.
        guard count <= remaining / 3 else {
            throw LocalProtocolError(.malformedFrame, "\(what) announces \(count) rooms, more than the frame holds")
        }
        var list: [LocalRoom] = []
        list.reserveCapacity(count)
        for _ in 0..<count { list.append(try room(what)) }
        return list
    }

    mutating func version2Frame(_ type: FrameType) throws(LocalProtocolError) -> LocalFrame {
        switch type {
        case .namespace:
            return .namespace(try string("namespace"))
        case .roomsJoin:
            return .roomsJoin(namespace: try string("namespace"), socketId: try string("socket id"), rooms: try rooms("rooms"))
        case .roomsLeave:
            return .roomsLeave(namespace: try string("namespace"), socketId: try string("socket id"), rooms: try rooms("rooms"))
        case .roomsBroadcast:
            return .roomsBroadcast(
                namespace: try string("namespace"), flags: DeliveryFlags(byte: try u8("flags")), rooms: try rooms("rooms"),
                except: try rooms("except"), packet: try blob("packet"), attachments: try blobs("attachments"))
        case .delivered:
            return .delivered(ackId: try u64("ack id"), namespace: try string("namespace"), socketIds: try strings("socket ids"))
        case .answer:
            return .answer(request: try u32("request"), status: try u8("status"), body: try blob("body"))
        case .clusterRequest:
            return .clusterRequest(
                request: try u32("request"), kind: try u8("kind"), namespace: try string("namespace"),
                timeoutMilliseconds: try u32("time-out"), body: try blob("body"))
        case .broadcastWithAck:
            return .broadcastWithAck(
                request: try u32("request"), namespace: try string("namespace"), flags: DeliveryFlags(byte: try u8("flags")),
                rooms: try rooms("rooms"), except: try rooms("except"), timeoutMilliseconds: try u32("time-out"),
                packet: try blob("packet"), attachments: try blobs("attachments"))
        case .deliverToRooms:
            return .deliverToRooms(
                ackId: try u64("ack id"), flags: DeliveryFlags(byte: try u8("flags")), namespace: try string("namespace"),
                rooms: try rooms("rooms"), except: try rooms("except"), packet: try blob("packet"),
                attachments: try blobs("attachments"))
        case .apply:
            let opByte = try u8("op")
            guard let op = ApplyOperation(rawValue: opByte) else {
                throw LocalProtocolError(.malformedFrame, "APPLY op \(opByte) is not 1, 2 or 3")
            }
            return .apply(
                op: op, namespace: try string("namespace"), rooms: try rooms("rooms"), except: try rooms("except"),
                targets: try rooms("targets"), close: try u8("close") != 0)
        case .question:
            return .question(request: try u32("request"), kind: try u8("kind"), namespace: try string("namespace"), body: try blob("body"))
        case .clusterReply:
            return .clusterReply(request: try u32("request"), status: try u8("status"), body: try blob("body"))
        case .ackCount:
            return .ackCount(request: try u32("request"), clientCount: try u32("client count"))
        case .ackArgument:
            return .ackArgument(request: try u32("request"), argument: try blob("argument"))
        case .hello, .welcome, .error, .ping, .pong, .socketConnect, .socketDisconnect, .socketJoin, .socketLeave,
            .broadcast, .deliver, .acked, .socketsJoin, .socketsLeave, .socketsDisconnect, .serverSideEmit:
            throw LocalProtocolError(.malformedFrame, "frame type 0x\(String(type.rawValue, radix: 16)) is not of version 2")
        }
    }
}
