/// JSON.stringify as Node.js does it, over JSValue.
///
/// Socket.IO packets are JSON text produced by `JSON.stringify` in the
/// sending process; to hand a client the same bytes it would get from a
/// Node.js server, every detail (property order, number layout, which
/// characters are escaped) follows ECMA-262's SerializeJSONProperty.
public struct JSONStringifier: Sendable {
    /// What to write for binary values, which plain JSON cannot hold.
    public enum BinaryHandling: Sendable {
        /// socket.io-parser's deconstructPacket: every .buffer/.arrayBuffer is written as {"_placeholder":true,"num":N}
        /// with N counting from 0 in traversal order (array index order, object property order), and its bytes appended
        /// to `attachments`.
        ///
        /// deconstructPacket copies objects by assignment, so an own "__proto__" property does not survive: its
        /// binaries still take numbers and attachments, but the property is not written.
        case placeholders
        /// Plain JSON.stringify in Node: .buffer -> {"type":"Buffer","data":[1,2,3]}, .arrayBuffer -> {}
        case nodeJSON
    }

    private let binary: BinaryHandling

    /// The binary payloads replaced by placeholders, in placeholder order.
    /// Numbering continues across calls on the same stringifier.
    public private(set) var attachments: [[UInt8]] = []

    public init(binary: BinaryHandling) {
        self.binary = binary
    }

    /// Appends the JSON text of `value`. Returns false (appending nothing)
    /// when JSON.stringify would return undefined (top-level .undefined).
    @discardableResult public mutating func append(_ value: JSValue, to output: inout [UInt8]) -> Bool {
        if case .undefined = value { return false }
        write(value, to: &output)
        return true
    }

    /// Convenience: the JSON text as a String (nil for top-level undefined).
    public static func string(_ value: JSValue, binary: BinaryHandling = .nodeJSON) -> String? {
        var stringifier = JSONStringifier(binary: binary)
        var output: [UInt8] = []
        guard stringifier.append(value, to: &output) else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    private mutating func write(_ value: JSValue, to output: inout [UInt8]) {
        switch value {
        case .undefined, .null:
            // Inside arrays undefined becomes null; object members skip it before getting here.
            output.append(contentsOf: JSONStringifier.nullBytes)
        case .bool(let flag):
            output.append(contentsOf: flag ? JSONStringifier.trueBytes : JSONStringifier.falseBytes)
        case .number(let number):
            JSNumberFormatter.appendJSON(number, to: &output)
        case .string(let string):
            JSONQuoting.appendQuoted(string, to: &output)
        case .date(let milliseconds):
            // Date.prototype.toJSON: null for an invalid date, else the quoted toISOString.
            output.append(UInt8(ascii: "\""))
            if JSDate.appendISOString(milliseconds: milliseconds, to: &output) {
                output.append(UInt8(ascii: "\""))
            } else {
                output.removeLast()
                output.append(contentsOf: JSONStringifier.nullBytes)
            }
        case .buffer(let bytes), .arrayBuffer(let bytes):
            writeBinary(value, bytes, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            writeObject(object, to: &output)
        }
    }

    private mutating func writeObject(_ object: JSObject, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        var first = true
        for property in object.properties {
            if case .undefined = property.value { continue }
            if binary == .placeholders && property.key == "__proto__" {
                collectAttachments(property.value)
                continue
            }
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            JSONQuoting.appendQuoted(property.key, to: &output)
            output.append(UInt8(ascii: ":"))
            write(property.value, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    private mutating func writeBinary(_ value: JSValue, _ bytes: [UInt8], to output: inout [UInt8]) {
        switch binary {
        case .placeholders:
            output.append(contentsOf: JSONStringifier.placeholderPrefix)
            JSNumberFormatter.appendInteger(Int64(attachments.count), to: &output)
            output.append(UInt8(ascii: "}"))
            attachments.append(bytes)
        case .nodeJSON:
            guard case .buffer = value else {
                // An ArrayBuffer has no toJSON and no own enumerable properties.
                output.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
                return
            }
            // Buffer.prototype.toJSON.
            output.append(contentsOf: JSONStringifier.bufferPrefix)
            for (index, byte) in bytes.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSNumberFormatter.appendInteger(Int64(byte), to: &output)
            }
            output.append(contentsOf: [UInt8(ascii: "]"), UInt8(ascii: "}")])
        }
    }

    /// Takes the attachments of a value that deconstructPacket walks but whose
    /// placeholder copy is lost (see ``BinaryHandling/placeholders``).
    private mutating func collectAttachments(_ value: JSValue) {
        switch value {
        case .buffer(let bytes), .arrayBuffer(let bytes):
            attachments.append(bytes)
        case .array(let elements):
            for element in elements { collectAttachments(element) }
        case .object(let object):
            for property in object.properties { collectAttachments(property.value) }
        default:
            break
        }
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)
    private static let placeholderPrefix: [UInt8] = Array(#"{"_placeholder":true,"num":"#.utf8)
    private static let bufferPrefix: [UInt8] = Array(#"{"type":"Buffer","data":["#.utf8)
}
