/// The body writers of version 2: typed rooms and the frames that carry them.
extension FrameWriter {
    mutating func version2Body(of frame: LocalFrame) throws(LocalFrameEncodingError) {
        switch frame {
        case .namespace(let nsp):
            try u8(FrameType.namespace.rawValue); try string(nsp, "namespace")
        case .roomsJoin(let nsp, let sid, let rooms):
            try u8(FrameType.roomsJoin.rawValue); try string(nsp, "namespace"); try string(sid, "socket id")
            try self.rooms(rooms, "rooms")
        case .roomsLeave(let nsp, let sid, let rooms):
            try u8(FrameType.roomsLeave.rawValue); try string(nsp, "namespace"); try string(sid, "socket id")
            try self.rooms(rooms, "rooms")
        case .roomsBroadcast(let nsp, let flags, let rooms, let except, let packet, let attachments):
            try u8(FrameType.roomsBroadcast.rawValue); try string(nsp, "namespace"); try u8(flags.byte)
            try self.rooms(rooms, "rooms"); try self.rooms(except, "except")
            try blob(packet, "packet"); try blobs(attachments, "attachments")
        case .delivered(let ackId, let nsp, let sids):
            try u8(FrameType.delivered.rawValue); try u64(ackId); try string(nsp, "namespace")
            try strings(sids, "socket ids")
        case .answer(let request, let status, let body):
            try u8(FrameType.answer.rawValue); try u32(request); try u8(status); try blob(body, "body")
        case .clusterRequest(let request, let kind, let nsp, let timeout, let body):
            try u8(FrameType.clusterRequest.rawValue); try u32(request); try u8(kind); try string(nsp, "namespace")
            try u32(timeout); try blob(body, "body")
        case .broadcastWithAck(
            let request,
            let nsp,
            let flags,
            let rooms,
            let except,
            let timeout,
            let packet,
            let attachments
        ):
            try u8(FrameType.broadcastWithAck.rawValue); try u32(request); try string(nsp, "namespace");
            try u8(flags.byte)
            try self.rooms(rooms, "rooms"); try self.rooms(except, "except"); try u32(timeout)
            try blob(packet, "packet"); try blobs(attachments, "attachments")
        case .deliverToRooms(let ackId, let flags, let nsp, let rooms, let except, let packet, let attachments):
            try u8(FrameType.deliverToRooms.rawValue); try u64(ackId); try u8(flags.byte); try string(nsp, "namespace")
            try self.rooms(rooms, "rooms"); try self.rooms(except, "except")
            try blob(packet, "packet"); try blobs(attachments, "attachments")
        case .apply(let op, let nsp, let rooms, let except, let targets, let close):
            try u8(FrameType.apply.rawValue); try u8(op.rawValue); try string(nsp, "namespace")
            try self.rooms(rooms, "rooms"); try self.rooms(except, "except"); try self.rooms(targets, "targets")
            try u8(close ? 1 : 0)
        case .question(let request, let kind, let nsp, let body):
            try u8(FrameType.question.rawValue); try u32(request); try u8(kind); try string(nsp, "namespace")
            try blob(body, "body")
        case .clusterReply(let request, let status, let body):
            try u8(FrameType.clusterReply.rawValue); try u32(request); try u8(status); try blob(body, "body")
        case .ackCount(let request, let count):
            try u8(FrameType.ackCount.rawValue); try u32(request); try u32(count)
        case .ackArgument(let request, let argument):
            try u8(FrameType.ackArgument.rawValue); try u32(request); try blob(argument, "argument")
        case .hello, .welcome, .error, .ping, .pong, .socketConnect, .socketDisconnect, .socketJoin, .socketLeave,
            .broadcast, .deliver, .acked, .socketsJoin, .socketsLeave, .socketsDisconnect, .serverSideEmit:
            try body(of: frame)
        }
    }

    /// A room: tag 0x00 and a string, or tag 0x01 and a finite f64be (what
    /// is not finite is refused: the receiver would call it malformed).
    mutating func room(_ room: LocalRoom, _ what: String) throws(LocalFrameEncodingError) {
        switch room {
        case .name(let name):
            try u8(LocalRoom.nameTag); try string(name, what)
        case .number(let number):
            guard number.isFinite else {
                throw LocalFrameEncodingError(.nonFiniteNumber, "\(what): the room \(number) is not a finite number")
            }
            try u8(LocalRoom.numberTag); try u64(number.bitPattern)
        }
    }

    mutating func rooms(_ list: [LocalRoom], _ what: String) throws(LocalFrameEncodingError) {
        try count(list.count, what)
        for room in list { try self.room(room, what) }
    }
}
