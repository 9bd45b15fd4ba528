import BusCore
import StatusHTTP

extension StatusPages {
    /// The four latency histograms (README, Metrics).
    static func addLatencyHistograms(to page: inout PrometheusText) {
        let histograms = LatencyHistograms.shared
        let families: [(String, String, LatencyHistogram)] = [
            (
                "socketbus_delivery_latency_seconds",
                "A batch of adapter messages read from Redis to its DELIVER frames queued for the node.",
                histograms.delivery
            ),
            (
                "socketbus_ack_latency_seconds",
                "A delivery dispatched to the node to the client's ack (delivered confirmations).",
                histograms.ack
            ),
            (
                "socketbus_redis_round_trip_seconds",
                "The registry mirror's periodic liveness write to Redis (SET + SADD pipeline), sent to answered.",
                histograms.redisRoundTrip
            ),
            (
                "socketbus_request_answer_seconds",
                "Cluster requests answered: read to answer queued, or the node asked to its ANSWER queued.",
                histograms.requestAnswer
            ),
        ]
        for (name, help, histogram) in families {
            let snapshot = histogram.snapshot
            page.addHistogram(
                name,
                help: help,
                bounds: snapshot.bounds,
                cumulative: snapshot.cumulative,
                count: snapshot.count,
                sum: snapshot.sum
            )
        }
    }
}
