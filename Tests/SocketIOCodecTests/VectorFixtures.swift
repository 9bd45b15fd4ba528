import Foundation
import SocketIOCodec
import TestSupport

/// The wire data the codec is proven against: real socket.io 4.8 cluster
/// captures (`captured.jsonl`) and the reference vectors (`reference.json`).
///
/// Read at run time from `../shared/vectors` next to the repository when it is
/// there (the canonical copy), else from the copies committed as fixtures.
enum VectorFixtures {
    static let directory: URL = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let shared = repository.deletingLastPathComponent().appendingPathComponent("shared/vectors")
        if FileManager.default.fileExists(atPath: shared.appendingPathComponent("captured.jsonl").path) {
            return shared
        }
        return Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }()

    static func data(_ name: String) -> [UInt8] {
        let url = directory.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            fatalError("missing test vectors at \(url.path)")
        }
        return [UInt8](data)
    }

    /// Each line of captured.jsonl, parsed (key order kept).
    static let captured: [JSObject] = {
        let text = data("captured.jsonl")
        return text.split(separator: UInt8(ascii: "\n")).compactMap { line in
            try? JSONParser().parse(Array(line)).objectValue
        }
    }()

    static let reference: [JSObject] = {
        guard case .array(let items)? = try? JSONParser().parse(data("reference.json")) else { return [] }
        return items.compactMap(\.objectValue)
    }()

    static func hex(_ text: String) -> [UInt8] { Hex.bytes(text) }

    static func hexString(_ bytes: [UInt8]) -> String { Hex.string(bytes) }

    /// The JavaScript value a receiving node holds for a vector's `decoded`
    /// field, whose markers stand for what JSON cannot hold.
    static func expectedValue(_ decoded: JSValue, flavor: NotepackFlavor) -> JSValue {
        switch decoded {
        case .array(let elements):
            return .array(elements.map { element in
                let value = expectedValue(element, flavor: flavor)
                return value == .undefined && flavor == .notepack3 ? .null : value
            })
        case .object(let object):
            if object.count == 1, let marker = object.properties.first {
                switch marker.key {
                case "$bin": return .buffer(hex(marker.value.stringValue ?? ""))
                case "$uint8array":
                    let bytes = hex(marker.value.stringValue ?? "")
                    return flavor == .notepack2 ? .arrayBuffer(bytes) : .buffer(bytes)
                case "$date_ms": return .date(marker.value.numberValue ?? .nan)
                case "$undefined": return .undefined
                default: break
                }
            }
            var result = JSObject()
            for property in object.properties {
                let value = expectedValue(property.value, flavor: flavor)
                if value == .undefined && flavor == .notepack3 { continue }
                result[property.key] = value
            }
            return .object(result)
        default:
            return decoded
        }
    }
}

extension JSObject {
    func string(_ key: String) -> String? { self[key]?.stringValue }
}
