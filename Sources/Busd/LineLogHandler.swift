import Foundation
import Logging
import Synchronization

/// How busd writes its log lines (log.format).
enum LogLineFormat: String, Sendable {
    /// `2026-12-06T05:53:23.123Z info busd: message key=value key="a value"`
    case text
    /// One JSON object per line: timestamp, level, label, message, then the metadata.
    case json
}

/// The level every busd logger obeys; SIGHUP changes it for all of them at once.
final class SharedLogLevel: Sendable {
    private let level: Mutex<Logger.Level>
    init(_ level: Logger.Level) { self.level = Mutex(level) }
    var value: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// Writes one line per record to standard error, whole (one write(2) each,
/// so lines from several threads never interleave).
struct LineLogHandler: LogHandler {
    let label: String
    let format: LogLineFormat
    let sharedLevel: SharedLogLevel
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    var logLevel: Logger.Level {
        get { sharedLevel.value }
        set { sharedLevel.value = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let explicit { fields.merge(explicit) { _, new in new } }
        let record = LogRecord(
            timestamp: LogRecord.timestamp(Date()), level: level.rawValue, label: label,
            message: message.description, fields: fields.map { ($0.key, "\($0.value)") }.sorted { $0.0 < $1.0 }
        )
        let text = format == .json ? record.json : record.text
        var bytes = Array(text.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(2, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // stderr gone: nothing else to tell
                }
                offset += written
            }
        }
    }
}
