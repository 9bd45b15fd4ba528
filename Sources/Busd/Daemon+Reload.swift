import Alerting
import BusConfig
import BusCore
import Logging

extension Daemon {
    /// SIGHUP: reads the settings again (flags, environment, file) and
    /// applies what busd can change while it runs: the log level and the
    /// alert settings (channels, thresholds, role; secrets files are read
    /// again). Every other change is logged as waiting for a restart, and a
    /// broken configuration leaves everything as it was.
    func reloadSettings() {
        systemd.reloading()
        defer { systemd.reloaded() }
        let (freshValues, fresh): (ResolvedSettings, DaemonSettings)
        do {
            (freshValues, fresh) = try reload()
        } catch {
            for problem in error.errors {
                logger.error("reload refused: configuration error: \(problem)")
            }
            return
        }
        let before = logLevel.value
        logLevel.value = fresh.logLevel
        if fresh.logLevel != before {
            logger.notice("reload: log.level changed", metadata: ["from": "\(before)", "to": "\(fresh.logLevel)"])
        }
        let alertChanges = alerter.apply(fresh.alerts)
        if !alertChanges.isEmpty {
            logger.notice(
                "reload: alert settings applied",
                metadata: ["changed": "\(alertChanges.joined(separator: ","))"]
            )
        }
        // Every other setting whose value differs from the one busd started
        // with (by key only: secrets are never logged).
        let needRestart = SettingsCatalog.all.map(\.key).filter { key in
            key != "log.level" && !key.hasPrefix("alerts.") && resolved[key]?.values != freshValues[key]?.values
        }
        if needRestart.isEmpty {
            logger.notice("reload done: log level \(fresh.logLevel), alerts as configured")
        } else {
            logger.warning(
                "reload: changed settings not applied until a restart",
                metadata: ["settings": "\(needRestart.joined(separator: ","))"]
            )
        }
    }
}
