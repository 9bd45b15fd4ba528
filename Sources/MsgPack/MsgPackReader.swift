internal import CMsgPack

/// Decodes MessagePack with msgpack-c, after a bounds-and-depth scan.
///
/// Owns one `msgpack_zone` (msgpack-c's arena for decoded object trees) and
/// clears it between payloads, so steady-state decoding does not allocate in
/// C. Not thread-safe: use one reader per thread or task.
public final class MsgPackReader {
    public struct Limits: Sendable {
        /// Deepest container nesting accepted. msgpack-c's own parser stops at 32.
        public var maxDepth: Int
        /// Largest payload accepted, in bytes.
        public var maxBytes: Int

        public init(maxDepth: Int = 32, maxBytes: Int = 64 << 20) {
            self.maxDepth = min(max(maxDepth, 1), 32)
            self.maxBytes = maxBytes
        }
    }

    public let limits: Limits
    private let zone: UnsafeMutablePointer<msgpack_zone>

    public init(limits: Limits = Limits()) {
        MsgPackLayout.check()
        self.limits = limits
        // Only fails when malloc fails; there is nothing sensible to do then.
        guard let zone = msgpack_zone_new(Int(MSGPACK_ZONE_CHUNK_SIZE)) else {
            fatalError("msgpack_zone_new: out of memory")
        }
        self.zone = zone
    }

    deinit {
        msgpack_zone_free(zone)
    }

    /// Decodes one value into Swift-owned memory.
    public func decode(_ bytes: [UInt8]) throws(MsgPackError) -> MsgPackValue {
        do {
            return try withObject(bytes) { $0.value() }
        } catch let error as MsgPackError {
            throw error
        } catch {
            fatalError("unreachable: value() does not throw")
        }
    }

    /// Decodes one value and lends a view of it to `body`.
    ///
    /// The view points into msgpack-c's arena and into `bytes`; it is valid only
    /// inside `body` and must not be stored. This is the zero-copy path for hot
    /// code that needs a few fields, not the whole tree. Errors from the
    /// payload are ``MsgPackError``s; errors from `body` pass through.
    public func withObject<R>(
        _ bytes: [UInt8],
        _ body: (MsgPackObject) throws -> R
    ) throws -> R {
        if bytes.count > limits.maxBytes {
            throw MsgPackError(.tooLarge, offset: 0, "payload of \(bytes.count) bytes exceeds the limit of \(limits.maxBytes)")
        }
        return try bytes.withUnsafeBytes { raw in try withObject(raw, body) }
    }

    func withObject<R>(
        _ raw: UnsafeRawBufferPointer,
        _ body: (MsgPackObject) throws -> R
    ) throws -> R {
        try MsgPackScanner(maxDepth: limits.maxDepth, validateUTF8: true).scan(raw)
        // The arena is clear here: every decode clears it when done.
        defer { msgpack_zone_clear(zone) }
        var object = msgpack_object()
        var offset = 0
        // An empty buffer has been refused by the scan; the base address exists.
        let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
        let rc = msgpack_unpack(base, raw.count, &offset, zone, &object)
        switch rc {
        case MSGPACK_UNPACK_SUCCESS:
            break
        case MSGPACK_UNPACK_NOMEM_ERROR:
            throw MsgPackError(.outOfMemory, offset: offset, "msgpack-c could not allocate the object tree")
        default:
            // The scan accepted what msgpack-c refused: report it, do not trust it.
            throw MsgPackError(.invalidByte, offset: offset, "msgpack-c refused the payload (code \(rc.rawValue))")
        }
        return try withUnsafePointer(to: &object) { pointer in
            try body(MsgPackObject(pointer: UnsafeRawPointer(pointer), base: UnsafeRawPointer(base)))
        }
    }
}
