import Foundation
import StatusHTTP
import Testing

@testable import BusCtl

/// `busctl top`'s pure parts: the rates from two pages and the lines of a view.
@Suite("busctl top: rates and rendering")
struct TopRendererTests {
    @Test(arguments: [
        ([Double?](), ""),
        ([nil, nil], "  "),
        ([0, 0, 0], "▁▁▁"),
        ([0, 1, 2, 4, 8], "▁▂▃▅█"),
        ([nil, 5, 0, 5], " █▁█"),
        ([0.001, 1000], "▂█"),
        ([Double.nan, 3, Double.infinity], " █ "),
    ])
    func sparklines(_ history: [Double?], _ shown: String) {
        #expect(TopRenderer.sparkline(history) == shown)
    }

    @Test(arguments: [
        (0.0, "0.0"), (2.25, "2.2"), (99.94, "99.9"), (100.4, "100"), (12_345.6, "12346"), (Double.nan, "nan"),
        (1e20, "1e+20"),
    ])
    func ratesPerSecond(_ rate: Double, _ shown: String) {
        #expect(TopRenderer.perSecond(rate) == shown)
    }

    static let page = """
        socketbus_info{node="web-1",uid="u1",version="0.1.0"} 1
        socketbus_start_time_seconds 1000
        socketbus_messages_received_total 10
        socketbus_messages_delivered_total 8
        socketbus_messages_dropped_total{reason="no_node"} 1
        socketbus_messages_dropped_total{reason="node_backlog"} 2
        socketbus_confirmations_total{status="delivered"} 4
        socketbus_confirmations_total{status="timeout"} 1
        socketbus_cluster_requests_total{type="SOCKETS"} 3
        socketbus_redis_connected 1
        socketbus_local_connections 1
        socketbus_registry_sockets 2
        """

    static func page(received: Int, dropped: Int, start: Int = 1000) -> [PrometheusSample] {
        PrometheusSample.parse(
            page.replacingOccurrences(of: "received_total 10", with: "received_total \(received)")
                .replacingOccurrences(of: "reason=\"no_node\"} 1", with: "reason=\"no_node\"} \(dropped)")
                .replacingOccurrences(of: "start_time_seconds 1000", with: "start_time_seconds \(start)")
        )
    }

    @Test func ratesComeFromTwoReads() {
        var sampler = TopSampler(window: 3)
        let first = sampler.take(Self.page(received: 10, dropped: 1), at: 0)
        #expect(first.map(\.title) == TopSeries.all.map(\.title))
        #expect(first[0].perSecond == nil && first[0].total == 10)
        #expect(first[2].total == 3)  // dropped: the reasons summed
        let second = sampler.take(Self.page(received: 30, dropped: 5), at: 2)
        #expect(second[0].perSecond == 10)
        #expect(second[2].perSecond == 2)
        #expect(second[3].total == 4 && second[3].perSecond == 0)  // acks: status delivered only
        #expect(second[6].total == nil && second[6].perSecond == nil)  // not on the page
        #expect(second[0].history == [nil, 10])
    }

    @Test func aResetOrARestartCountsFromZeroAndAMissLeavesAGap() {
        var sampler = TopSampler(window: 3)
        _ = sampler.take(Self.page(received: 100, dropped: 1), at: 0)
        // Went down: reset, counted from 0.
        #expect(sampler.take(Self.page(received: 4, dropped: 1), at: 1)[0].perSecond == 4)
        // Higher, but another start time: another busd, counted from 0.
        #expect(sampler.take(Self.page(received: 6, dropped: 1, start: 2000), at: 2)[0].perSecond == 6)
        let missed = sampler.miss()
        #expect(missed[0].total == nil && missed[0].history == [4, 6, nil])
        let after = sampler.take(Self.page(received: 9, dropped: 1, start: 2000), at: 4)
        #expect(after[0].perSecond == nil && after[0].history == [6, nil, nil])
    }

    static func view() -> TopView {
        var view = TopView(address: "127.0.0.1:9477", clock: "07:30:00 UTC", intervalText: "1s")
        var sampler = TopSampler()
        _ = sampler.take(Self.page(received: 10, dropped: 1), at: 0)
        view.rates = sampler.take(Self.page(received: 40, dropped: 1), at: 1)
        view.apply(
            samples: Self.page(received: 40, dropped: 1),
            ready: StatusClient.Response(status: 200, body: "ready"),
            nowSeconds: 1090
        )
        view.nodeSockets = ["sock-a", "sock-b"]
        view.registrySocketCount = 2
        view.nodes = [
            TopView.Node(id: "web-1", isAlive: true, host: "h1", pid: "42", sockets: "2", uptime: "1m30s"),
            TopView.Node(id: "web-2", isAlive: false),
        ]
        return view
    }

    @Test func aViewShowsTheFigures() {
        let lines = TopRenderer.lines(Self.view(), width: 120, height: 40, sparklines: true)
        let text = lines.joined(separator: "\n")
        #expect(
            lines[0]
                == "busctl top  busd 127.0.0.1:9477  node web-1  uid u1  version 0.1.0  up 1m30s  07:30:00 UTC  every 1s"
        )
        #expect(lines[1] == "state: ready")
        #expect(lines.contains("messages in     30.0          40   █"))
        #expect(lines.contains("dropped          0.0           3   ▁"))
        #expect(lines.contains("requests out       -           -"))
        #expect(text.contains("redis: connected, reconnects -, data loss -, outbound -/- buffered"))
        #expect(text.contains("node link: 1 connection(s), 2 socket(s)"))
        #expect(text.contains("sockets (registry): 2: sock-a, sock-b"))
        #expect(text.contains("CLUSTER NODES: 2 registered, 1 alive"))
        #expect(lines.contains("web-1  alive  h1    42        2        1m30s   -"))
        #expect(lines.contains("web-2  stale  -     -         -        -       -"))
        #expect(lines.allSatisfy { $0.count <= 120 && !$0.contains("\u{1b}") })
    }

    /// What cannot be read is said in the view; lists are cut to the window.
    @Test(arguments: [(30, 24), (60, 24), (200, 30)])
    func aViewFitsItsWindow(_ width: Int, _ height: Int) {
        var view = Self.view()
        view.nodes = (0..<50).map { TopView.Node(id: "node-\($0)", isAlive: true) }
        view.nodeSockets = (0..<200).map { "socket-\($0)" }
        view.registrySocketCount = 1000
        let lines = TopRenderer.lines(view, width: width, height: height, sparklines: true)
        #expect(lines.allSatisfy { $0.count <= width })
        #expect(lines.count <= height)
        #expect(lines.contains { $0.hasPrefix("… ") })
        if width >= 60 {
            #expect(lines.contains { $0.hasPrefix("sockets (registry): 1000: socket-0") && $0.hasSuffix(" more") })
        }
    }

    @Test func errorsAreShownInTheView() {
        var view = Self.view()
        view.busdError = "cannot connect to 127.0.0.1:9477: Connection refused"
        view.registryError = "redis io: Connection refused"
        view.readiness = .notReady(["redis unreachable"])
        let lines = TopRenderer.lines(view, width: 120, height: nil, sparklines: false)
        #expect(lines[1] == "busd: UNREACHABLE: cannot connect to 127.0.0.1:9477: Connection refused")
        #expect(lines.contains("CLUSTER NODES: registry unreadable: redis io: Connection refused"))
        view.busdError = nil
        #expect(
            TopRenderer.lines(view, width: 120, height: nil, sparklines: false)[1]
                == "state: NOT READY: redis unreachable"
        )
    }

    @Test(arguments: [(0.0, "00:00:00 UTC"), (1_796_542_261.9, "07:31:01 UTC"), (86_399, "23:59:59 UTC")])
    func clock(_ seconds: Double, _ shown: String) {
        #expect(TopLoop.clockText(Date(timeIntervalSince1970: seconds)) == shown)
    }

    /// The bars span about 30 s whatever the interval, 60 bars at most.
    @Test(arguments: [
        (Duration.seconds(1), 30, "last 30 s"), (.seconds(2), 15, "last 30 s"), (.milliseconds(250), 60, "last 15 s"),
        (.seconds(10), 3, "last 30 s"), (.seconds(60), 2, "last 120 s"),
    ])
    func sparklinesSpanAboutThirtySeconds(_ interval: Duration, _ bars: Int, _ heading: String) {
        let state = TopLoop.State(address: "127.0.0.1:9477", interval: interval, intervalText: "x")
        #expect(state.sampler.window == bars)
        #expect(state.view.historyText == heading)
        #expect(
            TopRenderer.lines(state.view, width: 120, height: nil, sparklines: true)[3].hasSuffix("total  " + heading)
        )
    }
}
