import Foundation
import BusCore
import BusConfig

/// What `busd --check-config` prints: every setting in effect, where it
/// came from, secrets only as "(set)".
enum SettingsReport {
    /// One row per catalog setting: key, the value as shown (nil: unset), source.
    struct Row {
        let key: String
        let value: String?
        let source: String
    }

    static func rows(_ settings: ResolvedSettings, effective: DaemonSettings) -> [Row] {
        SettingsCatalog.all.map { spec in
            let value = settings[spec.key]
            let shown: String?
            switch spec.key {
            case _ where spec.isSecret:
                shown = value == nil ? nil : "(set)"
            case "redis.url":
                shown = "\(effective.member.redis)"  // without its password
            case "node.id":
                shown = effective.member.nodeId
            default:
                shown = value.map { $0.values.joined(separator: ", ") }
            }
            let source = value?.source.description ?? (spec.key == "node.id" ? "computed" : "unset")
            return Row(key: spec.key, value: shown, source: source)
        }
    }

    static func text(_ settings: ResolvedSettings, effective: DaemonSettings) -> String {
        let rows = rows(settings, effective: effective).map { row in
            (row.key, row.value.map { $0.isEmpty ? "\"\"" : $0 } ?? "-", row.source)
        }
        let keyWidth = rows.map(\.0.count).max() ?? 0
        let valueWidth = min(48, rows.map(\.1.count).max() ?? 0)
        var lines = ["configuration is valid" + (settings.file.map { " (file \($0.path))" } ?? " (no config file)")]
        for (key, value, source) in rows {
            lines.append(
                key.padding(toLength: keyWidth + 2, withPad: " ", startingAt: 0)
                    + value.padding(toLength: max(valueWidth, value.count) + 2, withPad: " ", startingAt: 0) + source
            )
        }
        return lines.joined(separator: "\n")
    }

    /// The README's settings table (Markdown), from the catalog.
    static func markdownTable() -> String {
        var text = "| key | flag | default | meaning |\n|---|---|---|---|\n"
        for spec in SettingsCatalog.all {
            let flag = spec.flag.map { "`--\($0)`" } ?? "env only"
            let defaultText = spec.defaultValue.map { "`\($0)`" } ?? "–"
            text += "| `\(spec.key)` | \(flag) | \(defaultText) | \(spec.help) |\n"
        }
        return text
    }
}
