public import SocketIOCodec

/// The local protocol carries ack arguments as JSON, where Node writes a
/// Buffer as `{"type":"Buffer","data":[…]}`. A stock node publishes a binary
/// ack argument as msgpack `bin` in its BROADCAST_ACK, so busd turns that form
/// back into bytes before it encodes one (docs/local-protocol-v2.md).
extension JSValue {
    public var revivingNodeBuffers: JSValue {
        switch self {
        case .array(let elements):
            return .array(elements.map(\.revivingNodeBuffers))
        case .object(let object):
            if let bytes = object.nodeBufferBytes { return .buffer(bytes) }
            return .object(JSObject(object.properties.map { ($0.key, $0.value.revivingNodeBuffers) }))
        default:
            return self
        }
    }
}

extension JSObject {
    /// The bytes of exactly `{"type":"Buffer","data":[0…255, …]}`; nil for any other object.
    fileprivate var nodeBufferBytes: [UInt8]? {
        guard count == 2, self["type"]?.stringValue == "Buffer", let data = self["data"]?.arrayValue else {
            return nil
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count)
        for element in data {
            guard let number = element.numberValue, number >= 0, number <= 255, number == number.rounded() else {
                return nil
            }
            bytes.append(UInt8(number))
        }
        return bytes
    }
}
