/// JSON.parse as Node.js does it, into JSValue.
///
/// Accepts exactly the RFC 8259 grammar that V8 accepts (no comments, no
/// trailing commas, no leading zeros, whitespace only space, tab, LF and CR)
/// over UTF-8 bytes, which must be valid. Two deliberate limits that V8 does
/// not have: nesting is capped at `maxDepth` (the parse is iterative, so a
/// deep input is refused, never a stack overflow), and a lone surrogate
/// escape such as "\uD800" becomes U+FFFD, since a Swift String cannot hold
/// it. (Node.js keeps the lone surrogate: it writes U+FFFD only when encoding
/// the string as UTF-8, while its JSON.stringify would write "\ud800" again.)
///
/// Errors carry the byte offset of the first byte that cannot be accepted, or
/// the input length when it ends too early; for ASCII input these are the
/// positions V8 reports.
public struct JSONParser: Sendable {
    /// The deepest nesting of arrays and objects accepted; 1 allows `[1]` but not `[[1]]`.
    public let maxDepth: Int

    public init(maxDepth: Int = 64) {
        self.maxDepth = maxDepth
    }

    /// Throws CodecError with code .malformedJSON and the byte offset of the problem.
    public func parse(_ bytes: [UInt8]) throws(CodecError) -> JSValue {
        try bytes.withUnsafeBufferPointer { buffer throws(CodecError) in
            var reader = JSONReader(buffer)
            return try reader.readDocument(maxDepth: maxDepth)
        }
    }
}

/// The containers being filled, kept on explicit stacks instead of recursion.
///
/// Arrays and objects sit in stacks of their own so that appending a member
/// mutates the innermost one in place (an enum payload would be copied).
private struct OpenContainers {
    /// True for an array, false for an object, innermost last.
    var isArray: [Bool] = []
    var arrays: [[JSValue]] = []
    var objects: [JSObject] = []
    /// The key of the member being read, for each open object.
    var keys: [String] = []

    var depth: Int { isArray.count }
}

extension JSONReader {
    /// Reads one value and checks that only whitespace follows.
    mutating func readDocument(maxDepth: Int) throws(CodecError) -> JSValue {
        var open = OpenContainers()
        while true {
            guard var value = try readValueOrOpen(&open, maxDepth: maxDepth) else { continue }
            // Close every container that this value completes.
            while true {
                guard let innermostIsArray = open.isArray.last else {
                    skipWhitespace()
                    if position < bytes.count {
                        throw failure("unexpected non-whitespace character after JSON")
                    }
                    return value
                }
                guard let completed = try add(value, toArray: innermostIsArray, &open) else { break }
                value = completed
            }
        }
    }

    /// Reads a scalar or an empty container; for a non-empty container,
    /// opens it (reading the key of its first member) and returns nil.
    private mutating func readValueOrOpen(_ open: inout OpenContainers, maxDepth: Int) throws(CodecError) -> JSValue? {
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of JSON input") }
        switch bytes[position] {
        case UInt8(ascii: "["):
            guard open.depth < maxDepth else { throw failure("nesting deeper than \(maxDepth)") }
            position += 1
            skipWhitespace()
            if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array([])
            }
            open.isArray.append(true)
            open.arrays.append([])
            return nil
        case UInt8(ascii: "{"):
            guard open.depth < maxDepth else { throw failure("nesting deeper than \(maxDepth)") }
            position += 1
            skipWhitespace()
            if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(JSObject())
            }
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected property name or '}'")
            }
            open.keys.append(try readMemberKey())
            open.isArray.append(false)
            open.objects.append(JSObject())
            return nil
        default:
            return try readScalar()
        }
    }

    /// Stores a finished value in the innermost container; returns that
    /// container when the value was its last member, or nil when more follow.
    private mutating func add(
        _ value: JSValue,
        toArray: Bool,
        _ open: inout OpenContainers
    ) throws(CodecError) -> JSValue? {
        skipWhitespace()
        let next: UInt8? = position < bytes.count ? bytes[position] : nil
        if toArray {
            open.arrays[open.arrays.count - 1].append(value)
            if next == UInt8(ascii: ",") {
                position += 1
                return nil
            }
            guard next == UInt8(ascii: "]") else { throw failure("expected ',' or ']' after array element") }
            position += 1
            open.isArray.removeLast()
            return .array(open.arrays.removeLast())
        }
        let key = open.keys.removeLast()
        open.objects[open.objects.count - 1][key] = value
        if next == UInt8(ascii: ",") {
            position += 1
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected double-quoted property name")
            }
            open.keys.append(try readMemberKey())
            return nil
        }
        guard next == UInt8(ascii: "}") else { throw failure("expected ',' or '}' after property value") }
        position += 1
        open.isArray.removeLast()
        return .object(open.objects.removeLast())
    }

    /// Reads `"key"` and the `:` after it; `position` is at the opening quote.
    private mutating func readMemberKey() throws(CodecError) -> String {
        let key = try readString()
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
            throw failure("expected ':' after property name")
        }
        position += 1
        return key
    }
}
