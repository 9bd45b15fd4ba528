/// Cuts a byte stream into frames and decodes them.
///
/// Feed it whatever a read returned; it keeps partial frames until the rest
/// arrives. The length prefix is checked before any body is buffered beyond
/// it, so a lying prefix cannot make it hold more than 16 MiB.
public struct LocalFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet decoded.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(LocalProtocolError) -> LocalFrame? {
        guard buffer.count - start >= 4 else { return nil }
        let length =
            Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard length >= 1 && length <= LocalFrame.maximumLength else {
            throw LocalProtocolError(.frameTooLarge, "frame length \(length) is outside 1...\(LocalFrame.maximumLength)")
        }
        guard buffer.count - start >= 4 + length else { return nil }
        let bodyStart = start + 4
        start = bodyStart + length
        return try buffer.withUnsafeBufferPointer { all throws(LocalProtocolError) -> LocalFrame in
            var reader = FrameReader(bytes: UnsafeBufferPointer(rebasing: all[bodyStart..<(bodyStart + length)]))
            let frame = try reader.frame()
            if reader.remaining != 0 {
                throw LocalProtocolError(.malformedFrame, "\(reader.remaining) bytes left after the body of \(frame.name)")
            }
            return frame
        }
    }
}

/// Reads one frame's type and body.
struct FrameReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    var remaining: Int { bytes.count - position }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private mutating func take(_ n: Int, _ what: String) throws(LocalProtocolError) -> UnsafeBufferPointer<UInt8> {
        guard n <= remaining else {
            throw LocalProtocolError(.malformedFrame, "\(what) needs \(n) bytes at body offset \(position), \(remaining) left")
        }
        defer { position += n }
        return UnsafeBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func u8(_ what: String) throws(LocalProtocolError) -> UInt8 { try take(1, what)[0] }

    mutating func u16(_ what: String) throws(LocalProtocolError) -> UInt16 {
        let b = try take(2, what)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func u32(_ what: String) throws(LocalProtocolError) -> UInt32 {
        let b = try take(4, what)
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }

    mutating func u64(_ what: String) throws(LocalProtocolError) -> UInt64 {
        UInt64(try u32(what)) << 32 | UInt64(try u32(what))
    }

    mutating func string(_ what: String) throws(LocalProtocolError) -> String {
        let n = Int(try u16(what))
        let b = try take(n, what)
        guard let s = String(validating: b, as: UTF8.self) else {
            throw LocalProtocolError(.malformedFrame, "\(what) is not valid UTF-8")
        }
        return s
    }

    mutating func strings(_ what: String) throws(LocalProtocolError) -> [String] {
        let count = Int(try u32(what))
        // Each string takes at least its two length bytes.
        guard count <= remaining / 2 else {
            throw LocalProtocolError(.malformedFrame, "\(what) announces \(count) strings, more than the frame holds")
        }
        var list: [String] = []
        list.reserveCapacity(count)
        for _ in 0..<count { list.append(try string(what)) }
        return list
    }

    mutating func blob(_ what: String) throws(LocalProtocolError) -> [UInt8] {
        Array(try take(Int(try u32(what)), what))
    }

    mutating func blobs(_ what: String) throws(LocalProtocolError) -> [[UInt8]] {
        let count = Int(try u32(what))
        guard count <= remaining / 4 else {
            throw LocalProtocolError(.malformedFrame, "\(what) announces \(count) blobs, more than the frame holds")
        }
        var list: [[UInt8]] = []
        list.reserveCapacity(count)
        for _ in 0..<count { list.append(try blob(what)) }
        return list
    }

    mutating func frame() throws(LocalProtocolError) -> LocalFrame {
        let typeByte = try u8("type")
        guard let type = FrameType(rawValue: typeByte) else {
            throw LocalProtocolError(.malformedFrame, "unknown frame type 0x\(String(typeByte, radix: 16))")
        }
        switch type {
        case .hello:
            return .hello(version: try u16("version"), node: try string("node"), pid: try u32("pid"))
        case .welcome:
            return .welcome(version: try u16("version"), uid: try string("uid"), nodeId: try string("node id"), ackIdBase: try u64("ack id base"),
                ackTimeoutMilliseconds: try u32("ack time-out"))
        case .error:
            return .error(code: try u16("code"), message: try string("message"))
        case .ping:
            return .ping(token: try u64("token"))
        case .pong:
            return .pong(token: try u64("token"))
        case .socketConnect:
            return .socketConnect(namespace: try string("namespace"), socketId: try string("socket id"), connectedAt: try u64("connected at"))
        case .socketDisconnect:
            return .socketDisconnect(namespace: try string("namespace"), socketId: try string("socket id"), reason: try string("reason"))
        case .socketJoin:
            return .socketJoin(namespace: try string("namespace"), socketId: try string("socket id"), rooms: try strings("rooms"))
        case .socketLeave:
            return .socketLeave(namespace: try string("namespace"), socketId: try string("socket id"), rooms: try strings("rooms"))
        case .broadcast:
            return .broadcast(
                namespace: try string("namespace"), flags: DeliveryFlags(byte: try u8("flags")), rooms: try strings("rooms"),
                except: try strings("except"), packet: try blob("packet"), attachments: try blobs("attachments"))
        case .deliver:
            return .deliver(
                ackId: try u64("ack id"), flags: DeliveryFlags(byte: try u8("flags")), namespace: try string("namespace"),
                socketIds: try strings("socket ids"), packet: try blob("packet"), attachments: try blobs("attachments"))
        case .acked:
            let ackId = try u64("ack id")
            let sid = try string("socket id")
            let statusByte = try u8("status")
            guard let status = AckStatus(rawValue: statusByte) else {
                throw LocalProtocolError(.malformedFrame, "ack status \(statusByte) is not 1, 2 or 3")
            }
            return .acked(ackId: ackId, socketId: sid, status: status, arguments: try blob("arguments"))
        case .socketsJoin:
            return .socketsJoin(namespace: try string("namespace"), socketIds: try strings("socket ids"), rooms: try strings("rooms"))
        case .socketsLeave:
            return .socketsLeave(namespace: try string("namespace"), socketIds: try strings("socket ids"), rooms: try strings("rooms"))
        case .socketsDisconnect:
            return .socketsDisconnect(namespace: try string("namespace"), socketIds: try strings("socket ids"), close: try u8("close") != 0)
        case .serverSideEmit:
            return .serverSideEmit(namespace: try string("namespace"), data: try blob("data"))
        default:
            return try version2Frame(type)
        }
    }
}

extension LocalFrame {
    /// The frame type's name, as the protocol document writes it.
    public var name: String {
        switch self {
        case .hello: return "HELLO"
        case .welcome: return "WELCOME"
        case .error: return "ERROR"
        case .ping: return "PING"
        case .pong: return "PONG"
        case .socketConnect: return "SOCKET_CONNECT"
        case .socketDisconnect: return "SOCKET_DISCONNECT"
        case .socketJoin: return "SOCKET_JOIN"
        case .socketLeave: return "SOCKET_LEAVE"
        case .broadcast: return "BROADCAST"
        case .deliver: return "DELIVER"
        case .acked: return "ACKED"
        case .socketsJoin: return "SOCKETS_JOIN"
        case .socketsLeave: return "SOCKETS_LEAVE"
        case .socketsDisconnect: return "SOCKETS_DISCONNECT"
        case .serverSideEmit: return "SERVER_SIDE_EMIT"
        case .namespace: return "NAMESPACE"
        case .roomsJoin: return "ROOMS_JOIN"
        case .roomsLeave: return "ROOMS_LEAVE"
        case .roomsBroadcast: return "ROOMS_BROADCAST"
        case .delivered: return "DELIVERED"
        case .answer: return "ANSWER"
        case .clusterRequest: return "CLUSTER_REQUEST"
        case .broadcastWithAck: return "BROADCAST_WITH_ACK"
        case .deliverToRooms: return "DELIVER_TO_ROOMS"
        case .apply: return "APPLY"
        case .question: return "QUESTION"
        case .clusterReply: return "CLUSTER_REPLY"
        case .ackCount: return "ACK_COUNT"
        case .ackArgument: return "ACK_ARGUMENT"
        }
    }
}
