import Logging

extension AlertDispatcher {
    /// A dispatcher for a command-line tool (`busctl alert-test`), which
    /// reports results itself: with `verbose`, each attempt is logged to
    /// standard error; otherwise nothing is logged.
    public static func forCommandLine(settings: AlertSettings, verbose: Bool) -> AlertDispatcher {
        var logger = Logger(label: "socketbus.alerts") { label -> any LogHandler in
            verbose ? StreamLogHandler.standardError(label: label) : SwiftLogNoOpLogHandler()
        }
        logger.logLevel = .info
        return AlertDispatcher(settings: settings, logger: logger)
    }
}
