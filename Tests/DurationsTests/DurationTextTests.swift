import Durations
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("30s", .seconds(30)),
        ("5m", .seconds(300)),
        ("1h", .seconds(3600)),
        ("1.5", .milliseconds(1500)),
        ("  2s ", .seconds(2)),
        ("1m30s", .seconds(90)),
        ("1h15m", .seconds(4500)),
        ("2s500ms", .milliseconds(2500)),
        ("1h0m5s", .seconds(3605)),
        ("0.5m", .seconds(30)),
        ("0", .zero),
    ])
    func parses(_ text: String, _ expected: Duration) throws {
        #expect(try DurationText.parse(text) == expected)
    }

    @Test(arguments: [
        "", " ", "s", "ms", "-1s", "+1s", "1e3", "1 s", "30s1m", "1s2s", "1m30", "1..5s", "1x", "1.5.2",
        "5d", "１s", "nan", "inf", "100000000h", "1h 30m",
    ])
    func rejects(_ text: String) {
        #expect(throws: DurationText.ParseError.self) { try DurationText.parse(text) }
    }

    @Test func errorNamesTheTextAndTheCombinedForm() {
        #expect(throws: DurationText.ParseError.self) { try DurationText.parse("soon") }
        do {
            _ = try DurationText.parse("soon")
        } catch {
            #expect(error.description == "'soon' is not a duration like 250ms, 30s, 1m30s, 5m or 1h")
        }
    }

    @Test(arguments: [
        (Duration.seconds(3600), "1h"), (.seconds(90), "90s"), (.milliseconds(250), "250ms"), (.zero, "0s"),
    ])
    func formatsAndParsesBack(_ duration: Duration, _ text: String) throws {
        #expect(DurationText.format(duration) == text)
        #expect(try DurationText.parse(text) == duration)
    }
}
