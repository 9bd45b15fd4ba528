/// A frame that breaks the local protocol. The receiver answers with an
/// ERROR frame carrying ``wireCode`` and closes that connection only.
public struct LocalProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: UInt16, Sendable {
            case malformedFrame = 1
            case unsupportedVersion = 2
            case unexpectedFrame = 3
            case frameTooLarge = 4
            case shuttingDown = 5
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

        /// The number sent in an ERROR frame.
        public var wireCode: UInt16 { backing.rawValue }

        public var description: String {
            switch backing {
            case .malformedFrame: return "malformed frame"
            case .unsupportedVersion: return "unsupported version"
            case .unexpectedFrame: return "unexpected frame"
            case .frameTooLarge: return "frame too large"
            case .shuttingDown: return "shutting down"
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

    /// The ERROR frame that reports this error to the peer.
    public var frame: LocalFrame { .error(code: wireCode, message: message) }

    public var description: String { "\(code): \(message)" }
}
