import Foundation
import Testing

@testable import BusCore

@Suite("QuestionClock")
struct QuestionClockTests {
    @Test func anAnswerIsTimedOnceFromItsQuestion() {
        let clock = QuestionClock()
        let asked = ContinuousClock.now
        clock.asked(7, at: asked)
        #expect(clock.answered(7, at: asked + .milliseconds(40)) == .milliseconds(40))
        #expect(clock.answered(7, at: asked + .milliseconds(50)) == nil)
        #expect(clock.answered(8) == nil)
    }

    @Test func questionsNeverAnsweredArePrunedPastTheLimit() {
        let clock = QuestionClock(limit: 3, keep: .seconds(60))
        let start = ContinuousClock.now
        for id in UInt32(1)...3 { clock.asked(id, at: start) }
        // Full and nothing old: the new question is not timed.
        clock.asked(4, at: start + .seconds(1))
        #expect(clock.openCount == 3)
        #expect(clock.answered(4) == nil)
        // A minute on, the old ones go and the new one fits.
        clock.asked(5, at: start + .seconds(61))
        #expect(clock.openCount == 1)
        #expect(clock.answered(5, at: start + .seconds(62)) == .seconds(1))
    }
}
