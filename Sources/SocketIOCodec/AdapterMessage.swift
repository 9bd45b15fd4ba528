public import MsgPack

/// Any message found on a Socket.IO Redis adapter channel.
public enum AdapterMessage: Sendable, Hashable {
    case broadcast(BroadcastMessage)
    case request(RequestMessage)
    case response(ResponseMessage)
    /// A sharded-adapter (ClusterAdapter) message.
    case cluster(ClusterMessage)

    /// Decodes `payload` found on `channel`.
    ///
    /// Broadcast channels carry a msgpack `[uid, packet, opts]` (first byte
    /// `0x93`), or a ClusterAdapter object when the sharded adapter uses the
    /// same layout; request and response channels carry JSON (first byte `{`)
    /// or msgpack. Without a channel the payload's shape decides.
    public static func decode(
        _ payload: [UInt8],
        channel: AdapterChannel?,
        flavor: NotepackFlavor = .notepack3,
        reader: MsgPackReader = MsgPackReader()
    ) throws(CodecError) -> AdapterMessage {
        guard let first = payload.first else {
            throw CodecError(.unexpectedShape, offset: 0, "empty payload")
        }
        let encoding = PayloadEncoding.sniff(payload)
        if first == 0x93, channel == nil || !channel!.isRequestOrResponse {
            return .broadcast(try BroadcastMessage.decode(payload, flavor: flavor, reader: reader))
        }
        let value = try decodeValue(payload, encoding: encoding, flavor: flavor, reader: reader)
        switch channel {
        case .request?:
            return .request(try RequestMessage(value, encoding: encoding))
        case .response?:
            return .response(try ResponseMessage(value, encoding: encoding))
        case .broadcast?:
            return .cluster(try ClusterMessage(value, encoding: encoding))
        case nil:
            guard let object = value.objectValue else {
                throw CodecError(.unexpectedShape, "payload is neither [uid, packet, opts] nor an object")
            }
            if object["nsp"] != nil && object["data"] != nil && object["uid"] != nil {
                return .cluster(try ClusterMessage(value, encoding: encoding))
            }
            if case .number(let type) = object["type"], object["clientCount"] != nil || type == 9 {
                return .response(try ResponseMessage(value, encoding: encoding))
            }
            if object["type"] != nil {
                return .request(try RequestMessage(value, encoding: encoding))
            }
            return .response(try ResponseMessage(value, encoding: encoding))
        }
    }

    /// Decodes JSON or msgpack into the JavaScript view.
    public static func decodeValue(
        _ payload: [UInt8],
        encoding: PayloadEncoding,
        flavor: NotepackFlavor = .notepack3,
        reader: MsgPackReader = MsgPackReader()
    ) throws(CodecError) -> JSValue {
        switch encoding {
        case .json:
            return try JSONParser().parse(payload)
        case .msgpack:
            return try reader.withCodecObject(payload) { root throws(CodecError) in try Notepack.decode(root, flavor: flavor) }
        }
    }
}

extension AdapterChannel {
    var isRequestOrResponse: Bool {
        switch self {
        case .request, .response: return true
        case .broadcast: return false
        }
    }
}
