import Foundation

/// `busctl top`'s screen as lines of text: a pure function of a ``TopView``
/// (no escape codes; the terminal module places them).
enum TopRenderer {
    /// `width` cuts each line; `height` (the terminal's) bounds the lists
    /// so that the view fits; nil for the plain mode, which lists all.
    static func lines(_ view: TopView, width: Int, height: Int?, sparklines: Bool) -> [String] {
        var lines = header(view)
        lines.append("")
        lines += rates(view, sparklines: sparklines)
        lines.append("")
        lines += redis(view)
        lines.append(nodeSockets(view, width: width))
        lines.append("")
        let room = height.map { max(1, $0 - lines.count - 1) }
        lines += nodes(view, room: room)
        // A terminal too small for the rates loses the bottom.
        return lines.prefix(height ?? lines.count).map { cut($0, to: width) }
    }

    static func header(_ view: TopView) -> [String] {
        let node = view.node.map { "\($0)  \(view.identity)" } ?? "-"
        var lines = ["busctl top  busd \(view.address)  node \(node)  \(view.clock)  every \(view.intervalText)"]
        if let error = view.busdError {
            lines.append("busd: UNREACHABLE: \(error)")
        } else {
            switch view.readiness {
            case .ready: lines.append("state: ready")
            case .notReady(let reasons): lines.append("state: NOT READY: " + reasons.joined(separator: "; "))
            case .unknown: lines.append("state: -")
            }
        }
        return lines
    }

    static func rates(_ view: TopView, sparklines: Bool) -> [String] {
        let titleWidth = max(5, view.rates.map(\.title.count).max() ?? 0)
        var lines = ["RATE".padding(titleWidth) + "      /s       total" + (sparklines ? "  " + view.historyText : "")]
        for rate in view.rates {
            var line = rate.title.padding(titleWidth)
            line += leftPadded(rate.perSecond.map(perSecond) ?? "-", 8)
            line += leftPadded(rate.total.map(StatusReport.number) ?? "-", 12)
            if sparklines { line += "  " + sparkline(rate.history) }
            lines.append(line.trimmingTrailingSpaces())
        }
        return lines
    }

    static func redis(_ view: TopView) -> [String] {
        let redis = view.redis
        func count(_ value: Double?) -> String { value.map(StatusReport.number) ?? "-" }
        var state = "-"
        if let connected = redis.connected {
            state = connected ? "connected" : "DISCONNECTED"
            if let seconds = redis.unreachableSeconds, seconds > 0 {
                state += " for \(StatusReport.number(seconds.rounded(.down)))s"
            }
        }
        return [
            "redis: \(state), reconnects \(count(redis.reconnects)), data loss \(count(redis.dataLoss)), "
                + "outbound \(count(redis.outboundBuffered))/\(count(redis.outboundLimit)) buffered",
            "node link: \(count(view.linkConnections)) connection(s), \(count(view.nodeSocketCount)) socket(s)",
        ]
    }

    /// The node's socket ids from the registry, as many as fit on a line.
    static func nodeSockets(_ view: TopView, width: Int) -> String {
        guard let ids = view.nodeSockets else { return "sockets (registry): -" }
        let total = max(view.registrySocketCount ?? ids.count, ids.count)
        var line = "sockets (registry): \(total)"
        var shown = 0
        for id in ids {
            let candidate = line + (shown == 0 ? ": " : ", ") + id
            let rest = total - shown - 1
            if (candidate + (rest > 0 ? " +\(rest) more" : "")).count > width { break }
            line = candidate
            shown += 1
        }
        if shown > 0 && shown < total { line += " +\(total - shown) more" }
        return line
    }

    static func nodes(_ view: TopView, room: Int?) -> [String] {
        if let error = view.registryError {
            return ["CLUSTER NODES: registry unreadable: \(error)"]
        }
        guard let nodes = view.nodes else { return ["CLUSTER NODES: -"] }
        let alive = nodes.filter(\.isAlive).count
        let lines = ["CLUSTER NODES: \(nodes.count) registered, \(alive) alive"]
        guard !nodes.isEmpty else { return lines }
        var rows = [["NODE", "STATE", "HOST", "BUSD PID", "SOCKETS", "UPTIME", "VERSION"]]
        for node in nodes {
            rows.append([
                node.id, node.isAlive ? "alive" : "stale", node.host, node.pid, node.sockets, node.uptime, node.version,
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var table = rows.map { row in
            zip(row, widths).map { $0.0.padding($0.1) }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        if let room, table.count > room {
            let hidden = table.count - max(1, room - 1)
            table = Array(table.prefix(max(1, room - 1))) + ["… \(hidden) more"]
        }
        return lines + table
    }

    /// Rates over the last reads in block characters, scaled to the largest;
    /// a gap where busd could not be read, the lowest block for zero.
    static func sparkline(_ history: [Double?]) -> String {
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let largest = history.compactMap { $0 }.filter(\.isFinite).max() ?? 0
        return String(
            history.map { rate -> Character in
                guard let rate, rate.isFinite else { return " " }
                guard largest > 0, rate > 0 else { return blocks[0] }
                let level = Int((rate / largest * Double(blocks.count - 1)).rounded(.up))
                return blocks[min(blocks.count - 1, max(0, level))]
            }
        )
    }

    static func perSecond(_ rate: Double) -> String {
        guard rate.isFinite, abs(rate) < 1e12 else { return StatusReport.number(rate) }
        return rate >= 100 ? String(Int64(rate.rounded())) : String(format: "%.1f", rate)
    }

    static func leftPadded(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func cut(_ line: String, to width: Int) -> String {
        line.count <= width ? line : String(line.prefix(max(0, width)))
    }
}
