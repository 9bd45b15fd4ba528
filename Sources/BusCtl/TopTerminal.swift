#if canImport(Glibc)
    import Glibc
#endif

/// The terminal under `busctl top`: keys one at a time without echo, the
/// alternate screen, and the terminal as it was on every way out (`q`, the
/// end of the run, SIGINT, SIGTERM, SIGHUP).
enum TopTerminal {
    /// Whether the view is drawn (else plain lines are printed).
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Columns and rows; 80x24 when the terminal does not say.
    static func size() -> (width: Int, height: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else {
            return (80, 24)
        }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// Keys without Enter and without echo (signals stay: ^C is SIGINT),
    /// the alternate screen, no cursor.
    static func enter() {
        if isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &savedAttributes) == 0 {
            var raw = savedAttributes
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            if tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0 { attributesSaved = 1 }
        }
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            Glibc.signal(signal) { number in
                TopTerminal.restore()
                _exit(128 + number)
            }
        }
        // A resize interrupts the wait for a key, so that the view is drawn again at once.
        Glibc.signal(SIGWINCH) { _ in }
        // A parent may have left them blocked (a tmux started from a test
        // runner's thread passes its mask on): then nothing would restore the terminal.
        var handled = sigset_t()
        sigemptyset(&handled)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] { sigaddset(&handled, signal) }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
        write("\u{1b}[?1049h\u{1b}[?25l\u{1b}[H\u{1b}[2J")
    }

    /// Puts the terminal back. Async-signal-safe: only tcsetattr, tcflush and
    /// write(2); TCSANOW, as a hung-up terminal never drains its output.
    static func restore() {
        if attributesSaved == 1 {
            tcsetattr(STDIN_FILENO, TCSANOW, &savedAttributes)
            // Keys typed and not read are not the shell's.
            tcflush(STDIN_FILENO, TCIFLUSH)
            attributesSaved = 0
        }
        let leave: StaticString = "\u{1b}[?25h\u{1b}[?1049l"
        _ = Glibc.write(STDOUT_FILENO, leave.utf8Start, leave.utf8CodeUnitCount)
    }

    /// Draws `lines` over the previous screen, each cleared to its end.
    static func draw(_ lines: [String]) {
        write("\u{1b}[H" + lines.map { $0 + "\u{1b}[K" }.joined(separator: "\r\n") + "\u{1b}[J")
    }

    /// The next key typed within `milliseconds`; nil on none, on a resize
    /// (EINTR) or when standard input is not a terminal (then it just waits).
    static func key(within milliseconds: Int) -> UInt8? {
        let wait = Int32(clamping: max(0, milliseconds))
        guard attributesSaved == 1 else {
            _ = poll(nil, 0, wait)
            return nil
        }
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, wait) == 1 else { return nil }
        var byte: UInt8 = 0
        // End of input (a closed terminal) reads as q.
        return read(STDIN_FILENO, &byte, 1) == 1 ? byte : UInt8(ascii: "q")
    }

    static func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}

// Read by the signal handlers, which can capture nothing: plain C-like
// globals, set before the handlers are installed.
nonisolated(unsafe) private var savedAttributes = termios()
nonisolated(unsafe) private var attributesSaved: Int32 = 0
