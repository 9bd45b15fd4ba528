import StatusHTTP

/// One rate `busctl top` shows: a counter of busd's /metrics, summed over
/// the label values that match.
struct TopSeries: Sendable {
    var title: String
    var metric: String
    var labels: [String: String] = [:]

    /// The counter's value on a page; nil when the page has no such sample.
    func total(_ samples: [PrometheusSample]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == metric && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// The rates of the view, in its order.
    static let all: [TopSeries] = [
        TopSeries(title: "messages in", metric: "socketbus_messages_received_total"),
        TopSeries(title: "delivered", metric: "socketbus_messages_delivered_total"),
        TopSeries(title: "dropped", metric: "socketbus_messages_dropped_total"),
        TopSeries(title: "acks", metric: "socketbus_confirmations_total", labels: ["status": "delivered"]),
        TopSeries(title: "ack timeouts", metric: "socketbus_confirmations_total", labels: ["status": "timeout"]),
        TopSeries(title: "requests in", metric: "socketbus_cluster_requests_total"),
        TopSeries(title: "requests out", metric: "socketbus_cluster_requests_issued_total"),
    ]
}

/// A series as the view shows it: the counter, its rate since the last
/// read and the rates of the last reads (oldest first; nil where busd
/// could not be read).
struct TopRate: Sendable, Equatable {
    var title: String
    var total: Double?
    var perSecond: Double?
    var history: [Double?]
}

/// Rates from two successive reads of the counters. A value type: reads in,
/// rates out; the clock is the caller's (seconds on a monotonic clock).
struct TopSampler: Sendable {
    let series: [TopSeries]
    /// How many rates each history keeps (a sparkline's width).
    let window: Int
    private var previous: (totals: [Double?], seconds: Double, started: Double?)?
    private var histories: [[Double?]]

    init(series: [TopSeries] = TopSeries.all, window: Int = 30) {
        self.series = series
        self.window = max(1, window)
        histories = Array(repeating: [], count: series.count)
    }

    /// Takes a page read at `seconds`; returns each series' rate.
    mutating func take(_ samples: [PrometheusSample], at seconds: Double) -> [TopRate] {
        let totals = series.map { $0.total(samples) }
        let started = samples.first { $0.name == "socketbus_start_time_seconds" }?.value
        var rates: [Double?] = Array(repeating: nil, count: series.count)
        if let previous, seconds > previous.seconds {
            let elapsed = seconds - previous.seconds
            // Another start time is another busd: its counters began at 0.
            let restarted = started != nil && previous.started != nil && started != previous.started
            for index in series.indices {
                guard let now = totals[index] else { continue }
                let before = restarted ? 0 : previous.totals[index] ?? 0
                // A counter that went down was reset: count from 0, as Prometheus does.
                rates[index] = (now >= before ? now - before : now) / elapsed
            }
        }
        previous = (totals, seconds, started)
        for index in series.indices { append(rates[index], to: index) }
        return series.indices.map { index in
            TopRate(
                title: series[index].title,
                total: totals[index],
                perSecond: rates[index],
                history: histories[index]
            )
        }
    }

    /// busd could not be read: a gap in each history, and the next read starts over.
    mutating func miss() -> [TopRate] {
        previous = nil
        for index in series.indices { append(nil, to: index) }
        return series.indices.map { index in
            TopRate(title: series[index].title, total: nil, perSecond: nil, history: histories[index])
        }
    }

    private mutating func append(_ rate: Double?, to index: Int) {
        histories[index].append(rate)
        if histories[index].count > window { histories[index].removeFirst(histories[index].count - window) }
    }
}
