import Foundation

/// `busctl top`'s refreshes: read, take the rates, render, then wait for
/// the next refresh (reading keys meanwhile when on a terminal).
struct TopLoop {
    let source: TopSource
    let interval: Duration
    let intervalText: String
    let count: Int?
    private let clock = ContinuousClock()

    init(source: TopSource, interval: Duration, intervalText: String, count: Int?) {
        self.source = source
        self.interval = interval
        self.intervalText = intervalText
        self.count = count
    }

    /// Plain text blocks, one per refresh, each followed by an empty line.
    func runPlain() -> Int32 {
        var state = State(address: "\(source.address)", interval: interval, intervalText: intervalText)
        var refreshes = 0
        var next = clock.now
        while true {
            refresh(&state)
            // No empty lines inside a block: an empty line ends it (awk's RS="").
            let lines = TopRenderer.lines(state.view, width: 100_000, height: nil, sparklines: false)
            TopTerminal.write(lines.filter { !$0.isEmpty }.joined(separator: "\n") + "\n\n")
            refreshes += 1
            if let count, refreshes >= count { return state.exitStatus }
            next = max(next.advanced(by: interval), clock.now)
            Thread.sleep(forTimeInterval: Self.seconds(clock.now.duration(to: next)))
        }
    }

    /// The view on the alternate screen until q (or ^C, or --count refreshes).
    func runInteractive() -> Int32 {
        TopTerminal.enter()
        defer { TopTerminal.restore() }
        var state = State(address: "\(source.address)", interval: interval, intervalText: intervalText)
        var refreshes = 0
        var next = clock.now
        while true {
            refresh(&state)
            draw(state)
            refreshes += 1
            if let count, refreshes >= count { return state.exitStatus }
            next = max(next.advanced(by: interval), clock.now)
            while clock.now < next {
                let milliseconds = Int((Self.seconds(clock.now.duration(to: next)) * 1000).rounded(.up))
                switch TopTerminal.key(within: milliseconds) {
                case UInt8(ascii: "q"), UInt8(ascii: "Q"), 3, 4: return 0
                case nil: draw(state)  // a resize (or the time is up): draw at the new size
                default: continue
                }
            }
        }
    }

    private func draw(_ state: State) {
        let size = TopTerminal.size()
        TopTerminal.draw(TopRenderer.lines(state.view, width: size.width, height: size.height, sparklines: true))
    }

    private func refresh(_ state: inout State) {
        state.view.clock = Self.clockText(Date())
        // Taken before the read: busd answers /metrics first, Redis is read after.
        let seconds = Self.seconds(state.origin.duration(to: clock.now))
        let samples = source.read(into: &state.view)
        state.view.rates = samples.map { state.sampler.take($0, at: seconds) } ?? state.sampler.miss()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func clockText(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)) UTC"
    }

    struct State {
        var view: TopView
        var sampler: TopSampler
        let origin = ContinuousClock.now

        /// The bars span about 30 s: 30 reads a second apart, 15 two seconds apart (60 at most).
        init(address: String, interval: Duration, intervalText: String) {
            let seconds = max(0.1, TopLoop.seconds(interval))
            let window = min(60, max(2, Int((30 / seconds).rounded())))
            sampler = TopSampler(window: window)
            view = TopView(address: address, clock: "", intervalText: intervalText)
            view.historyText = "last \(StatusReport.number((Double(window) * seconds).rounded())) s"
        }

        /// As `busctl status` says it: 0 ready, 3 not ready, 1 busd not reached.
        var exitStatus: Int32 {
            if view.busdError != nil { return 1 }
            if case .notReady = view.readiness { return 3 }
            return 0
        }
    }
}
