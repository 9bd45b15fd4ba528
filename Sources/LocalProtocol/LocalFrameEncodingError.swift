/// A frame the local protocol cannot carry: busd drops it (counted as
/// `unframable`); it is never written in part.
public struct LocalFrameEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: Sendable {
            case stringTooLong
            case frameTooLarge
            case nonFiniteNumber
        }
        fileprivate let backing: Backing

        /// A string field (room, socket id, namespace...) over 65535 UTF-8 bytes.
        public static let stringTooLong = Code(backing: .stringTooLong)
        /// The frame would be longer than ``LocalFrame/maximumLength``.
        public static let frameTooLarge = Code(backing: .frameTooLarge)
        /// A numeric room that is NaN or infinite (version 2 carries finite numbers only).
        public static let nonFiniteNumber = Code(backing: .nonFiniteNumber)

        public var description: String {
            switch backing {
            case .stringTooLong: return "string too long"
            case .frameTooLarge: return "frame too large"
            case .nonFiniteNumber: return "non-finite number"
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
