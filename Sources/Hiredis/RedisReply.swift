/// A Redis reply (RESP2, all hiredis 0.14 knows), copied out of hiredis's
/// memory so it can outlive the reply object and cross threads.
///
/// There is no error case: an error reply, at any depth, is thrown as a
/// ``RedisError`` with code ``RedisError/Code/reply`` by whatever read it.
public enum RedisReply: Sendable, Hashable {
    case status(String)
    case integer(Int64)
    /// A bulk string; binary-safe.
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// A bulk or status reply as text.
    public var string: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    public var integer: Int64? {
        if case .integer(let n) = self { return n }
        return nil
    }

    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
