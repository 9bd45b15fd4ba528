public import LocalProtocol
public import SocketIOCodec

/// What busd publishes about a message it delivered with an ack id, on the
/// channel `<prefix>:acks:<message id>` and in the list of the same name.
///
/// Two kinds, told apart by `type`:
/// - `dispatched`: a node wrote the message to these sockets and waits for
///   their acks (one per node and message);
/// - `confirmation`: one socket's outcome, `delivered` (with the client's ack
///   arguments), `timeout` or `disconnected`.
public enum DeliveryRecord: Sendable, Hashable {
    case dispatched(Dispatch)
    case confirmation(Confirmation)

    public struct Dispatch: Sendable, Hashable {
        public var messageId: String
        public var node: String
        public var namespace: String
        public var ackId: UInt64
        public var sockets: [String]
        public var timeoutMilliseconds: UInt64
        /// Unix time, ms.
        public var time: Int64

        public init(
            messageId: String, node: String, namespace: String, ackId: UInt64, sockets: [String], timeoutMilliseconds: UInt64,
            time: Int64
        ) {
            self.messageId = messageId
            self.node = node
            self.namespace = namespace
            self.ackId = ackId
            self.sockets = sockets
            self.timeoutMilliseconds = timeoutMilliseconds
            self.time = time
        }
    }

    public struct Confirmation: Sendable, Hashable {
        public var messageId: String
        public var socketId: String
        public var node: String
        public var namespace: String
        public var status: Status
        public var ackId: UInt64
        /// Unix time the outcome was known, ms.
        public var time: Int64
        /// From dispatch to outcome, ms.
        public var latencyMilliseconds: Int64
        /// The client's ack arguments (delivered only).
        public var arguments: [JSValue]?

        public init(outcome: AckTable.Outcome, node: String) {
            messageId = outcome.messageId
            socketId = outcome.socketId
            self.node = node
            namespace = outcome.namespace
            status = Status(outcome.status)
            ackId = outcome.ackId
            time = outcome.settledAt
            latencyMilliseconds = max(0, outcome.settledAt - outcome.dispatchedAt)
            arguments = outcome.arguments
        }

        init(
            messageId: String, socketId: String, node: String, namespace: String, status: Status, ackId: UInt64, time: Int64,
            latencyMilliseconds: Int64, arguments: [JSValue]?
        ) {
            self.messageId = messageId
            self.socketId = socketId
            self.node = node
            self.namespace = namespace
            self.status = status
            self.ackId = ackId
            self.time = time
            self.latencyMilliseconds = latencyMilliseconds
            self.arguments = arguments
        }
    }

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case delivered, timeout, disconnected

        init(_ status: AckStatus) {
            switch status {
            case .delivered: self = .delivered
            case .timeout: self = .timeout
            case .disconnected: self = .disconnected
            }
        }
    }

    public var messageId: String {
        switch self {
        case .dispatched(let d): return d.messageId
        case .confirmation(let c): return c.messageId
        }
    }

    // MARK: JSON

    public var jsValue: JSValue {
        switch self {
        case .dispatched(let d):
            return .object(
                JSObject([
                    ("type", .string("dispatched")), ("messageId", .string(d.messageId)), ("node", .string(d.node)),
                    ("namespace", .string(d.namespace)), ("ackId", .number(Double(d.ackId))),
                    ("sockets", .array(d.sockets.map(JSValue.string))),
                    ("timeoutMs", .number(Double(d.timeoutMilliseconds))), ("time", .number(Double(d.time))),
                ]))
        case .confirmation(let c):
            return .object(
                JSObject([
                    ("type", .string("confirmation")), ("messageId", .string(c.messageId)), ("socketId", .string(c.socketId)),
                    ("node", .string(c.node)), ("namespace", .string(c.namespace)), ("status", .string(c.status.rawValue)),
                    ("ackId", .number(Double(c.ackId))), ("time", .number(Double(c.time))),
                    ("latencyMs", .number(Double(c.latencyMilliseconds))),
                    ("args", c.arguments.map(JSValue.array) ?? .null),
                ]))
        }
    }

    public var json: String { JSONStringifier.string(jsValue) ?? "{}" }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(json bytes: [UInt8]) throws(ParseError) {
        let value: JSValue
        do {
            value = try JSONParser().parse(bytes)
        } catch {
            throw ParseError(description: "not JSON: \(error)")
        }
        func string(_ key: String) throws(ParseError) -> String {
            guard let s = value[key]?.stringValue else { throw ParseError(description: "field '\(key)' is missing or not a string") }
            return s
        }
        func number(_ key: String) throws(ParseError) -> Double {
            guard let n = value[key]?.numberValue, n >= -9e15, n <= 9.1e15 else {
                throw ParseError(description: "field '\(key)' is missing or not a number")
            }
            return n
        }
        switch value["type"]?.stringValue {
        case "dispatched":
            guard let sockets = value["sockets"]?.arrayValue?.compactMap(\.stringValue) else {
                throw ParseError(description: "field 'sockets' is missing or not an array")
            }
            self = .dispatched(
                Dispatch(
                    messageId: try string("messageId"), node: try string("node"), namespace: try string("namespace"),
                    ackId: UInt64(max(0, try number("ackId"))), sockets: sockets,
                    timeoutMilliseconds: UInt64(max(0, try number("timeoutMs"))), time: Int64(try number("time"))))
        case "confirmation":
            guard let status = Status(rawValue: try string("status")) else {
                throw ParseError(description: "field 'status' is not delivered, timeout or disconnected")
            }
            self = .confirmation(
                Confirmation(
                    messageId: try string("messageId"), socketId: try string("socketId"), node: try string("node"),
                    namespace: try string("namespace"), status: status, ackId: UInt64(max(0, try number("ackId"))),
                    time: Int64(try number("time")), latencyMilliseconds: Int64(try number("latencyMs")),
                    arguments: value["args"]?.arrayValue))
        default:
            throw ParseError(description: "field 'type' is not 'dispatched' or 'confirmation'")
        }
    }
}
