/// A frame that breaks the local protocol, or that busd cannot use. The
/// receiver answers with an ERROR frame carrying ``wireCode``; it closes that
/// connection only, except for ``Code/unusableContent`` (``closesConnection``).
public struct LocalProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: UInt16, Sendable {
            case malformedFrame = 1
            case unsupportedVersion = 2
            case unexpectedFrame = 3
            case frameTooLarge = 4
            case shuttingDown = 5
            case unusableContent = 6
            case tooManyConnections = 7
            case handshakeTimeout = 8
        }
        fileprivate let backing: Backing

        /// The body does not match the type's layout (or the type is unknown).
        public static let malformedFrame = Code(backing: .malformedFrame)
        /// HELLO asked for a version this side does not speak.
        public static let unsupportedVersion = Code(backing: .unsupportedVersion)
        /// A valid frame at the wrong moment (anything before HELLO, a second HELLO).
        public static let unexpectedFrame = Code(backing: .unexpectedFrame)
        /// `length` is 0 or above 16 MiB.
        public static let frameTooLarge = Code(backing: .frameTooLarge)
        /// busd is draining and takes no new work.
        public static let shuttingDown = Code(backing: .shuttingDown)
        /// A well-formed frame whose content busd cannot use (a BROADCAST
        /// packet it cannot decode, ACKED arguments that are not a JSON
        /// array): that frame is skipped, the connection stays.
        public static let unusableContent = Code(backing: .unusableContent)
        /// busd already serves `socket.max_connections` connections.
        public static let tooManyConnections = Code(backing: .tooManyConnections)
        /// No HELLO within `socket.handshake_timeout`.
        public static let handshakeTimeout = Code(backing: .handshakeTimeout)

        /// False only for errors about one frame's content.
        public var closesConnection: Bool { backing != .unusableContent }

        /// The number sent in an ERROR frame.
        public var wireCode: UInt16 { backing.rawValue }

        public var description: String {
            switch backing {
            case .malformedFrame: return "malformed frame"
            case .unsupportedVersion: return "unsupported version"
            case .unexpectedFrame: return "unexpected frame"
            case .frameTooLarge: return "frame too large"
            case .shuttingDown: return "shutting down"
            case .unusableContent: return "unusable content"
            case .tooManyConnections: return "too many connections"
            case .handshakeTimeout: return "handshake time-out"
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var wireCode: UInt16 { code.wireCode }

    public var closesConnection: Bool { code.closesConnection }

    /// The ERROR frame that reports this error to the peer.
    /// (The message is cut to keep the frame small and always encodable.)
    public var frame: LocalFrame {
        .error(code: wireCode, message: String(decoding: message.utf8.prefix(1000), as: UTF8.self))
    }

    public var description: String { "\(code): \(message)" }
}
