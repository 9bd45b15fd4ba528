public import MsgPack

/// What a publisher asks of socketbus, in one extra key of a broadcast's
/// opts: `socketbus: {id?: string, ack?: bool, timeout?: ms}`. Stock
/// adapters copy only `rooms`, `except` and `flags` out of opts, so the key
/// costs them nothing.
public struct DeliveryRequest: Sendable, Hashable {
    /// The opts key.
    public static let optionsKey: StaticString = "socketbus"

    /// The publisher's message id; without one, busd uses the payload digest.
    public var messageId: String?
    /// Whether a delivery confirmation is wanted (true when the key is present
    /// and `ack` is absent).
    public var wantsAck: Bool
    /// How long to wait for each client's ack, at most busd's own limit.
    public var timeoutMilliseconds: UInt64?

    public init(messageId: String? = nil, wantsAck: Bool = true, timeoutMilliseconds: UInt64? = nil) {
        self.messageId = messageId
        self.wantsAck = wantsAck
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Reads the map; fields of the wrong type are ignored, as unknown ones.
    public init?(_ object: MsgPackObject) {
        guard object.kind == .map else { return nil }
        self.init()
        for i in 0..<object.count {
            let key = object.key(at: i)
            let value = object.value(at: i)
            if key.isString("id"), value.kind == .string, let id = value.string, !id.isEmpty {
                messageId = id
            } else if key.isString("ack"), value.kind == .bool {
                wantsAck = value.boolValue
            } else if key.isString("timeout") {
                switch value.kind {
                case .uint:
                    timeoutMilliseconds = value.uint64Value
                case .float32, .float64:
                    let ms = value.doubleValue
                    if ms >= 0 && ms < 1e15 { timeoutMilliseconds = UInt64(ms) }
                default:
                    break
                }
            }
        }
    }

    public init?(_ value: JSValue) {
        guard case .object(let object) = value else { return nil }
        self.init()
        if case .string(let id)? = object["id"], !id.isEmpty { messageId = id }
        if case .bool(let ack)? = object["ack"] { wantsAck = ack }
        if case .number(let ms)? = object["timeout"], ms >= 0, ms < 1e15 { timeoutMilliseconds = UInt64(ms) }
    }

    /// The opts value a publisher writes.
    public var jsValue: JSValue {
        var object = JSObject()
        if let messageId { object["id"] = .string(messageId) }
        object["ack"] = .bool(wantsAck)
        if let timeoutMilliseconds { object["timeout"] = .number(Double(timeoutMilliseconds)) }
        return .object(object)
    }
}

extension BroadcastMessage {
    /// The publisher's socketbus request, when opts carries one.
    public var deliveryRequest: DeliveryRequest? {
        options["\(DeliveryRequest.optionsKey)"].flatMap(DeliveryRequest.init)
    }
}
