import Alerting
import Foundation
import Testing

/// Alerts with fixed values, for tests that compare exact output.
enum Fixtures {
    static let source = AlertSource(node: "web-1", host: "host-a", redis: "redis://:hunter2@10.0.0.5:6379/0")
    /// 2023-11-14T22:13:20.123Z
    static let start = Date(timeIntervalSince1970: 1_700_000_000.123)

    static var firing: AlertEvent {
        .outageFiring(source: source, startedAt: start, duration: .seconds(12), repeatNumber: 1)
    }

    static var repeated: AlertEvent {
        .outageFiring(source: source, startedAt: start, duration: .seconds(3612), repeatNumber: 2)
    }

    static var resolved: AlertEvent {
        .outageResolved(source: source, startedAt: start, endedAt: start + 125, duration: .seconds(125))
    }

    static var test: AlertEvent { .test(source: source, at: start) }
    static var dataLoss: AlertEvent {
        .dataLoss(
            source: source,
            at: start,
            cause: "closed_by_redis",
            why: "Redis closed the subscriber while it kept running"
        )
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}
