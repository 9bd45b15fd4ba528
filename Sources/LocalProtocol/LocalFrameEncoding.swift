extension LocalFrame {
    /// Appends the whole frame (length prefix included) to `output`.
    ///
    /// A frame the protocol cannot carry (a string over 65535 bytes, a frame
    /// over ``maximumLength``) throws and leaves `output` as it was: the
    /// values come from Redis and the node, so this must never trap.
    public func encode(into output: inout [UInt8]) throws(LocalFrameEncodingError) {
        if case .deliver(let ackId, let flags, let namespace, let socketIds, let packet, let attachments) = self,
            DeliverFrameWriter.append(
                ackId: ackId,
                flags: flags,
                namespace: namespace,
                socketIds: socketIds,
                packet: packet,
                attachments: attachments,
                to: &output
            )
        {
            return
        }
        if case .deliverToRooms(let ackId, let flags, let namespace, let rooms, let except, let packet, let attachments) =
            self,
            DeliverFrameWriter.appendToRooms(
                ackId: ackId,
                flags: flags,
                namespace: namespace,
                rooms: rooms,
                except: except,
                packet: packet,
                attachments: attachments,
                to: &output
            )
        {
            return
        }
        let start = output.count
        output.append(contentsOf: [0, 0, 0, 0])
        // The writer borrows `output`'s storage (swapped in and back), so a
        // frame appended to a long queue never copies the queue.
        var w = FrameWriter(output: [], frameStart: start + 4)
        swap(&w.output, &output)
        do {
            try w.body(of: self)
        } catch {
            swap(&w.output, &output)
            output.removeSubrange(start...)
            throw error
        }
        swap(&w.output, &output)
        // The writer checked the length against maximumLength (16 MiB).
        let length = UInt32(truncatingIfNeeded: output.count - start - 4)
        output[start] = UInt8(truncatingIfNeeded: length >> 24)
        output[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        output[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        output[start + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// The frame's bytes.
    public var encoded: [UInt8] {
        get throws(LocalFrameEncodingError) {
            var out: [UInt8] = []
            try encode(into: &out)
            return out
        }
    }
}

/// Writes one frame's type and body after `frameStart`, refusing any field
/// that would take the frame past ``LocalFrame/maximumLength``.
struct FrameWriter {
    var output: [UInt8]
    let frameStart: Int

    mutating func body(of frame: LocalFrame) throws(LocalFrameEncodingError) {
        switch frame {
        case .hello(let version, let node, let pid):
            try u8(FrameType.hello.rawValue); try u16(version); try string(node, "node"); try u32(pid)
        case .welcome(let version, let uid, let nodeId, let base, let ackTimeout):
            try u8(FrameType.welcome.rawValue); try u16(version); try string(uid, "uid"); try string(nodeId, "node id")
            try u64(base); try u32(ackTimeout)
        case .error(let code, let message):
            try u8(FrameType.error.rawValue); try u16(code); try string(message, "message")
        case .ping(let token):
            try u8(FrameType.ping.rawValue); try u64(token)
        case .pong(let token):
            try u8(FrameType.pong.rawValue); try u64(token)
        case .socketConnect(let nsp, let sid, let at):
            try u8(FrameType.socketConnect.rawValue); try string(nsp, "namespace"); try string(sid, "socket id")
            try u64(at)
        case .socketDisconnect(let nsp, let sid, let reason):
            try u8(FrameType.socketDisconnect.rawValue); try string(nsp, "namespace"); try string(sid, "socket id")
            try string(reason, "reason")
        case .socketJoin(let nsp, let sid, let rooms):
            try u8(FrameType.socketJoin.rawValue); try string(nsp, "namespace"); try string(sid, "socket id")
            try strings(rooms, "rooms")
        case .socketLeave(let nsp, let sid, let rooms):
            try u8(FrameType.socketLeave.rawValue); try string(nsp, "namespace"); try string(sid, "socket id")
            try strings(rooms, "rooms")
        case .broadcast(let nsp, let flags, let rooms, let except, let packet, let attachments):
            try u8(FrameType.broadcast.rawValue); try string(nsp, "namespace"); try u8(flags.byte)
            try strings(rooms, "rooms"); try strings(except, "except")
            try blob(packet, "packet"); try blobs(attachments, "attachments")
        case .deliver(let ackId, let flags, let nsp, let sids, let packet, let attachments):
            try u8(FrameType.deliver.rawValue); try u64(ackId); try u8(flags.byte); try string(nsp, "namespace")
            try strings(sids, "socket ids"); try blob(packet, "packet"); try blobs(attachments, "attachments")
        case .acked(let ackId, let sid, let status, let arguments):
            try u8(FrameType.acked.rawValue); try u64(ackId); try string(sid, "socket id"); try u8(status.rawValue)
            try blob(arguments, "arguments")
        case .socketsJoin(let nsp, let sids, let rooms):
            try u8(FrameType.socketsJoin.rawValue); try string(nsp, "namespace"); try strings(sids, "socket ids")
            try strings(rooms, "rooms")
        case .socketsLeave(let nsp, let sids, let rooms):
            try u8(FrameType.socketsLeave.rawValue); try string(nsp, "namespace"); try strings(sids, "socket ids")
            try strings(rooms, "rooms")
        case .socketsDisconnect(let nsp, let sids, let close):
            try u8(FrameType.socketsDisconnect.rawValue); try string(nsp, "namespace"); try strings(sids, "socket ids")
            try u8(close ? 1 : 0)
        case .serverSideEmit(let nsp, let data):
            try u8(FrameType.serverSideEmit.rawValue); try string(nsp, "namespace"); try blob(data, "data")
        default:
            try version2Body(of: frame)
        }
    }

    /// Checked before each append, so a refused field is never copied.
    /// `what` is only built for the error: an eager interpolation cost more
    /// than the rest of a DELIVER frame.
    private func reserve(_ count: Int, _ what: @autoclosure () -> String) throws(LocalFrameEncodingError) {
        let length = output.count - frameStart
        guard count <= LocalFrame.maximumLength - length else {
            throw LocalFrameEncodingError(
                .frameTooLarge,
                "\(what()) (\(count) bytes) takes the frame past \(LocalFrame.maximumLength) bytes"
            )
        }
    }

    mutating func u8(_ v: UInt8) throws(LocalFrameEncodingError) {
        try reserve(1, "a byte")
        output.append(v)
    }
    mutating func u16(_ v: UInt16) throws(LocalFrameEncodingError) {
        try reserve(2, "a u16")
        appendU16(v)
    }
    mutating func u32(_ v: UInt32) throws(LocalFrameEncodingError) {
        try reserve(4, "a u32")
        appendU32(v)
    }
    mutating func u64(_ v: UInt64) throws(LocalFrameEncodingError) {
        try reserve(8, "a u64")
        appendU32(UInt32(v >> 32))
        appendU32(UInt32(v & 0xffff_ffff))
    }
    /// Big-endian, in one append (one capacity check, not one per byte).
    mutating func appendU32(_ v: UInt32) {
        withUnsafeBytes(of: v.bigEndian) { output.append(contentsOf: $0) }
    }
    mutating func appendU16(_ v: UInt16) {
        withUnsafeBytes(of: v.bigEndian) { output.append(contentsOf: $0) }
    }
    mutating func string(_ s: String, _ what: String) throws(LocalFrameEncodingError) {
        let utf8 = s.utf8
        guard let count = UInt16(exactly: utf8.count) else {
            throw LocalFrameEncodingError(.stringTooLong, "\(what): \(utf8.count) bytes, a string holds at most 65535")
        }
        try reserve(2 + Int(count), what)
        appendU16(count)
        output.append(contentsOf: utf8)
    }
    mutating func strings(_ list: [String], _ what: String) throws(LocalFrameEncodingError) {
        try count(list.count, what)
        for s in list { try string(s, what) }
    }
    mutating func blob(_ b: [UInt8], _ what: String) throws(LocalFrameEncodingError) {
        try reserve(4 + b.count, what)
        appendU32(UInt32(truncatingIfNeeded: b.count))  // at most 16 MiB: reserve checked it
        output.append(contentsOf: b)
    }
    mutating func blobs(_ list: [[UInt8]], _ what: String) throws(LocalFrameEncodingError) {
        try count(list.count, what)
        for b in list { try blob(b, what) }
    }
    /// A list's count; every item takes at least 2 bytes, so a count that
    /// fits the frame fits a u32.
    mutating func count(_ n: Int, _ what: String) throws(LocalFrameEncodingError) {
        try reserve(4 + 2 * n, "\(what) (\(n) items)")
        appendU32(UInt32(truncatingIfNeeded: n))
    }
}
