import BusCore
import Foundation
import Testing

@Suite("LatencyHistogram")
struct LatencyHistogramTests {
    @Test func observationsLandInTheFirstBucketAtOrAboveThem() {
        let histogram = LatencyHistogram(bounds: [0.001, 0.01, 0.1])
        histogram.observe(seconds: 0.0005)
        histogram.observe(seconds: 0.001)  // on a bound: that bucket (le is "<=")
        histogram.observe(seconds: 0.05)
        histogram.observe(seconds: 3)  // above all bounds: only +Inf (the count)
        let snapshot = histogram.snapshot
        #expect(snapshot.cumulative == [2, 2, 3])
        #expect(snapshot.count == 4)
        #expect(abs(snapshot.sum - 3.0515) < 1e-9)
    }

    @Test func aClockThatSteppedBackCountsAsZero() {
        let histogram = LatencyHistogram(bounds: [0.001])
        histogram.observe(seconds: -2)
        histogram.observe(seconds: .nan)
        let snapshot = histogram.snapshot
        #expect(snapshot.cumulative == [2] && snapshot.count == 2 && snapshot.sum == 0)
    }

    @Test func durationsAreSeconds() {
        let histogram = LatencyHistogram(bounds: [0.0001, 0.001])
        histogram.observe(.microseconds(500))
        #expect(histogram.snapshot.cumulative == [0, 1])
        #expect(abs(histogram.snapshot.sum - 0.0005) < 1e-12)
    }

    @Test func unsortedBoundsAreSorted() {
        #expect(LatencyHistogram(bounds: [1, 0.1]).bounds == [0.1, 1])
        #expect(LatencyHistogram.defaultBounds == LatencyHistogram.defaultBounds.sorted())
    }

    @Test func concurrentObservationsAreAllCounted() async {
        let histogram = LatencyHistogram()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for i in 0..<1000 { histogram.observe(seconds: Double(i % 10) / 1000) } }
            }
        }
        let snapshot = histogram.snapshot
        #expect(snapshot.count == 8000)
        #expect(snapshot.cumulative.last == 8000)
    }
}
