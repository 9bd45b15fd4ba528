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
        let fresh: DaemonSettings
        do {
            fresh = try reload()
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
            logger.notice("reload: alert settings applied", metadata: ["changed": "\(alertChanges.joined(separator: ","))"])
        }
        var needRestart: [String] = []
        if fresh.logFormat != settings.logFormat { needRestart.append("log.format") }
        if fresh.socketPath != settings.socketPath { needRestart.append("socket.path") }
        if "\(fresh.member.redis)" != "\(settings.member.redis)" { needRestart.append("redis.url") }
        if fresh.member.nodeId != settings.member.nodeId { needRestart.append("node.id") }
        if fresh.http != settings.http { needRestart.append("http.listen") }
        if fresh.drainDeadline != settings.drainDeadline { needRestart.append("drain.deadline") }
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
