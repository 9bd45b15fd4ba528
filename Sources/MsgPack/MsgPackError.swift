/// Why a MessagePack payload was refused, and where.
///
/// A struct over a private enum so new reasons can be added without breaking
/// callers; compare with `code`, read the byte position from `offset`.
public struct MsgPackError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Backing: Sendable, Hashable {
            case truncated
            case invalidByte
            case tooDeep
            case tooLarge
            case invalidUTF8
            case trailingBytes
            case outOfMemory
            case encodingFailed
        }
        fileprivate let backing: Backing

        /// The payload ends inside a value.
        public static let truncated = Code(backing: .truncated)
        /// A byte that starts no MessagePack value (0xc1).
        public static let invalidByte = Code(backing: .invalidByte)
        /// Containers nested deeper than the reader's limit.
        public static let tooDeep = Code(backing: .tooDeep)
        /// A length or element count larger than the payload or the reader's limit.
        public static let tooLarge = Code(backing: .tooLarge)
        /// A `str` whose bytes are not valid UTF-8.
        public static let invalidUTF8 = Code(backing: .invalidUTF8)
        /// Bytes left over after the single top-level value.
        public static let trailingBytes = Code(backing: .trailingBytes)
        /// msgpack-c could not allocate memory.
        public static let outOfMemory = Code(backing: .outOfMemory)
        /// msgpack-c refused to write (out of memory).
        public static let encodingFailed = Code(backing: .encodingFailed)

        public var description: String {
            switch backing {
            case .truncated: return "truncated"
            case .invalidByte: return "invalid byte"
            case .tooDeep: return "nested too deep"
            case .tooLarge: return "too large"
            case .invalidUTF8: return "invalid UTF-8"
            case .trailingBytes: return "trailing bytes"
            case .outOfMemory: return "out of memory"
            case .encodingFailed: return "encoding failed"
            }
        }
    }

    public let code: Code
    /// Byte offset in the payload where the problem was found.
    public let offset: Int
    public let detail: String

    public init(_ code: Code, offset: Int, _ detail: String) {
        self.code = code
        self.offset = offset
        self.detail = detail
    }

    public var description: String {
        "msgpack \(code) at byte \(offset): \(detail)"
    }
}
