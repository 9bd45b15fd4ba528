import MsgPack

/// Why an adapter message, packet or JSON text was refused.
///
/// A struct over a private enum so reasons can be added without breaking
/// callers. `offset` is the byte position in the input when one is known.
public struct CodecError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: Sendable, Hashable {
            case malformedMsgPack
            case malformedJSON
            case unexpectedShape
            case notAnEvent
            case invalidPacket
            case invalidChannel
            case unsupportedValue
        }
        fileprivate let backing: Backing

        /// The MessagePack layer refused the bytes (see `underlying`).
        public static let malformedMsgPack = Code(backing: .malformedMsgPack)
        /// The bytes are not JSON as `JSON.parse` reads it.
        public static let malformedJSON = Code(backing: .malformedJSON)
        /// Well-formed, but not a message of the adapter protocol (wrong types or fields).
        public static let unexpectedShape = Code(backing: .unexpectedShape)
        /// An ack id was asked for a packet that is not an EVENT or BINARY_EVENT.
        public static let notAnEvent = Code(backing: .notAnEvent)
        /// An encoded Socket.IO packet string that the encoder could not have produced.
        public static let invalidPacket = Code(backing: .invalidPacket)
        /// A Redis channel name outside the adapter's layout.
        public static let invalidChannel = Code(backing: .invalidChannel)
        /// A value the JavaScript side could not have produced or read.
        public static let unsupportedValue = Code(backing: .unsupportedValue)

        public var description: String {
            switch backing {
            case .malformedMsgPack: return "malformed msgpack"
            case .malformedJSON: return "malformed JSON"
            case .unexpectedShape: return "unexpected message shape"
            case .notAnEvent: return "not an event packet"
            case .invalidPacket: return "invalid packet string"
            case .invalidChannel: return "invalid channel"
            case .unsupportedValue: return "unsupported value"
            }
        }
    }

    public let code: Code
    /// Byte offset in the input, when known.
    public let offset: Int?
    public let detail: String

    public init(_ code: Code, offset: Int? = nil, _ detail: String) {
        self.code = code
        self.offset = offset
        self.detail = detail
    }

    init(_ error: MsgPackError) {
        self.init(.malformedMsgPack, offset: error.offset, "\(error.code): \(error.detail)")
    }

    public var description: String {
        if let offset { return "\(code) at byte \(offset): \(detail)" }
        return "\(code): \(detail)"
    }
}

extension MsgPackReader {
    /// ``MsgPackReader/withObject(_:_:)`` with every failure as a
    /// ``CodecError``: the payload's own errors keep their byte offset.
    func withCodecObject<R>(_ payload: [UInt8], _ body: (MsgPackObject) throws(CodecError) -> R) throws(CodecError) -> R {
        do {
            return try withObject(payload) { root in try body(root) }
        } catch let error as CodecError {
            throw error
        } catch let error as MsgPackError {
            throw CodecError(error)
        } catch {
            throw CodecError(.unexpectedShape, "\(error)")
        }
    }
}
