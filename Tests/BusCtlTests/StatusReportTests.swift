import StatusHTTP
import Testing

@testable import BusCtl

/// `busctl status` reads busd's /metrics over HTTP: whatever numbers the
/// page holds, the summary is printed, never a trap on a conversion.
@Suite("busctl status summary")
struct StatusReportTests {
    @Test(arguments: [
        (0.0, "0"), (42.0, "42"), (2.5, "2.5"), (1e300, "1e+300"), (-3.0, "-3"), (Double.nan, "nan"),
        (Double.infinity, "inf"), (-Double.infinity, "-inf"), (9.3e18, "9.3e+18"), (123_456_789.0, "123456789"),
    ])
    func numbersAreShownWithoutTrapping(_ value: Double, _ shown: String) {
        #expect(StatusReport.number(value) == shown)
    }

    @Test func aPageWithHugeAndOddValuesIsSummarized() {
        let page = """
            socketbus_info{node="web-1",uid="abcdef",version="0.1.0"} 1
            socketbus_start_time_seconds NaN
            socketbus_messages_received_total 1e300
            socketbus_messages_dropped_total{reason="unframable"} +Inf
            socketbus_messages_dropped_total{reason="subscriber_backlog"} 12
            socketbus_alert_sends_total{channel="webhook",result="ok"} 1e19
            """
        let text = StatusReport.text(
            ready: StatusClient.Response(status: 200, body: "ready"),
            samples: PrometheusSample.parse(page)
        )
        #expect(text.contains("received 1e+300"))
        #expect(text.contains("unframable inf, subscriber_backlog 12"))
        #expect(text.contains("webhook ok 1e+19"))
        #expect(text.contains("up -"))
    }
}
