import Foundation
import BusCore
import BusConfig

/// What `busd --check-config` prints: every setting in effect, where it
/// came from, secrets only as "(set)".
enum SettingsReport {
    static func text(_ settings: ResolvedSettings, effective: DaemonSettings) -> String {
        var rows: [(String, String, String)] = []
        for spec in SettingsCatalog.all {
            let value = settings[spec.key]
            var shown: String
            switch spec.key {
            case _ where spec.isSecret:
                shown = value == nil ? "-" : "(set)"
            case "redis.url":
                shown = "\(effective.member.redis)"  // without its password
            case "node.id":
                shown = effective.member.nodeId
            default:
                shown = value.map { $0.values.joined(separator: ", ") } ?? "-"
            }
            if shown.isEmpty { shown = "\"\"" }
            let source = value?.source.description ?? (spec.key == "node.id" ? "computed" : "unset")
            rows.append((spec.key, shown, source))
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
