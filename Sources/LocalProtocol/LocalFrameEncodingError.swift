/// A frame the local protocol cannot carry: busd drops it (counted as
/// `unframable`); it is never written in part.
public struct LocalFrameEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: Sendable {
            case stringTooLong
            case frameTooLarge
        }
        fileprivate let backing: Backing

        /// A string field (room, socket id, namespace...) over 65535 UTF-8 bytes.
        public static let stringTooLong = Code(backing: .stringTooLong)
        /// The frame would be longer than ``LocalFrame/maximumLength``.
        public static let frameTooLarge = Code(backing: .frameTooLarge)

        public var description: String {
            switch backing {
            case .stringTooLong: return "string too long"
            case .frameTooLarge: return "frame too large"
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
