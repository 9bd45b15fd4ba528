extension LocalFrame {
    /// Appends the whole frame (length prefix included) to `output`.
    public func encode(into output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: [0, 0, 0, 0])
        // The writer borrows `output`'s storage (swapped in and back), so a
        // frame appended to a long queue never copies the queue.
        var w = FrameWriter(output: [])
        swap(&w.output, &output)
        switch self {
        case .hello(let version, let node, let pid):
            w.u8(FrameType.hello.rawValue); w.u16(version); w.string(node); w.u32(pid)
        case .welcome(let version, let uid, let nodeId, let base, let ackTimeout):
            w.u8(FrameType.welcome.rawValue); w.u16(version); w.string(uid); w.string(nodeId); w.u64(base); w.u32(ackTimeout)
        case .error(let code, let message):
            w.u8(FrameType.error.rawValue); w.u16(code); w.string(message)
        case .ping(let token):
            w.u8(FrameType.ping.rawValue); w.u64(token)
        case .pong(let token):
            w.u8(FrameType.pong.rawValue); w.u64(token)
        case .socketConnect(let nsp, let sid, let at):
            w.u8(FrameType.socketConnect.rawValue); w.string(nsp); w.string(sid); w.u64(at)
        case .socketDisconnect(let nsp, let sid, let reason):
            w.u8(FrameType.socketDisconnect.rawValue); w.string(nsp); w.string(sid); w.string(reason)
        case .socketJoin(let nsp, let sid, let rooms):
            w.u8(FrameType.socketJoin.rawValue); w.string(nsp); w.string(sid); w.strings(rooms)
        case .socketLeave(let nsp, let sid, let rooms):
            w.u8(FrameType.socketLeave.rawValue); w.string(nsp); w.string(sid); w.strings(rooms)
        case .broadcast(let nsp, let flags, let rooms, let except, let packet, let attachments):
            w.u8(FrameType.broadcast.rawValue); w.string(nsp); w.u8(flags.byte); w.strings(rooms); w.strings(except)
            w.blob(packet); w.blobs(attachments)
        case .deliver(let ackId, let flags, let nsp, let sids, let packet, let attachments):
            w.u8(FrameType.deliver.rawValue); w.u64(ackId); w.u8(flags.byte); w.string(nsp); w.strings(sids)
            w.blob(packet); w.blobs(attachments)
        case .acked(let ackId, let sid, let status, let arguments):
            w.u8(FrameType.acked.rawValue); w.u64(ackId); w.string(sid); w.u8(status.rawValue); w.blob(arguments)
        case .socketsJoin(let nsp, let sids, let rooms):
            w.u8(FrameType.socketsJoin.rawValue); w.string(nsp); w.strings(sids); w.strings(rooms)
        case .socketsLeave(let nsp, let sids, let rooms):
            w.u8(FrameType.socketsLeave.rawValue); w.string(nsp); w.strings(sids); w.strings(rooms)
        case .socketsDisconnect(let nsp, let sids, let close):
            w.u8(FrameType.socketsDisconnect.rawValue); w.string(nsp); w.strings(sids); w.u8(close ? 1 : 0)
        case .serverSideEmit(let nsp, let data):
            w.u8(FrameType.serverSideEmit.rawValue); w.string(nsp); w.blob(data)
        }
        swap(&w.output, &output)
        let length = UInt32(output.count - start - 4)
        output[start] = UInt8(length >> 24)
        output[start + 1] = UInt8(length >> 16 & 0xff)
        output[start + 2] = UInt8(length >> 8 & 0xff)
        output[start + 3] = UInt8(length & 0xff)
    }

    /// The frame's bytes.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }
}

struct FrameWriter {
    var output: [UInt8]

    mutating func u8(_ v: UInt8) { output.append(v) }
    mutating func u16(_ v: UInt16) {
        output.append(UInt8(v >> 8))
        output.append(UInt8(v & 0xff))
    }
    mutating func u32(_ v: UInt32) {
        output.append(UInt8(v >> 24))
        output.append(UInt8(v >> 16 & 0xff))
        output.append(UInt8(v >> 8 & 0xff))
        output.append(UInt8(v & 0xff))
    }
    mutating func u64(_ v: UInt64) {
        u32(UInt32(v >> 32))
        u32(UInt32(v & 0xffff_ffff))
    }
    /// Strings longer than 65535 bytes cannot be framed; callers keep ids,
    /// rooms and namespaces far below that (socket.io's are tens of bytes).
    mutating func string(_ s: String) {
        let utf8 = s.utf8
        precondition(utf8.count <= 0xffff, "local protocol strings are at most 65535 bytes")
        u16(UInt16(utf8.count))
        output.append(contentsOf: utf8)
    }
    mutating func strings(_ list: [String]) {
        u32(UInt32(list.count))
        for s in list { string(s) }
    }
    mutating func blob(_ b: [UInt8]) {
        u32(UInt32(b.count))
        output.append(contentsOf: b)
    }
    mutating func blobs(_ list: [[UInt8]]) {
        u32(UInt32(list.count))
        for b in list { blob(b) }
    }
}
