@testable import Hiredis
import Testing

/// The RESP2 reply skipper that sends only a non-message reply to hiredis.
@Suite("RESP reply length")
struct ReplyLengthTests {
    static func length(_ text: String) -> Inbox.ReplyLength {
        Array(text.utf8).withUnsafeBytes { Inbox.replyLength($0) }
    }

    @Test(arguments: [
        "+OK\r\n", "-ERR unknown command\r\n", ":42\r\n", "$5\r\nhello\r\n", "$-1\r\n", "$0\r\n\r\n", "*-1\r\n", "*0\r\n",
        "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
        "*2\r\n*2\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n", "$4\r\na\r\nb\r\n",
    ])
    func aWholeReplyIsMeasuredAndEveryCutIsIncomplete(reply: String) {
        let bytes = Array(reply.utf8)
        // With a message behind it, only the reply counts.
        #expect(Self.length(reply + "*3\r\n$7\r\nmessage\r\n") == .complete(bytes.count))
        for cut in 0..<bytes.count {
            #expect(Self.length(String(decoding: bytes[..<cut], as: UTF8.self)) == .incomplete, "cut at \(cut)")
        }
    }

    @Test(arguments: ["x\r\n", "$abc\r\n", "$-2\r\n", "*1x\r\n", "$99999999999999999999\r\n", "$" + String(repeating: "1", count: 30)])
    func whatIsNotRESPIsLeftToHiredis(text: String) {
        #expect(Self.length(text) == .malformed)
    }
}

/// The pub/sub message parser of the subscriber's hot path.
@Suite("Inbox message parser")
struct InboxMessageParserTests {
    static func parse(_ text: String) -> Inbox.Parsed {
        Array(text.utf8).withUnsafeBytes { Inbox.parseMessage($0) }
    }

    @Test func aMessageIsFoundWhereItLies() {
        guard case .message(let channel, let payload, let length) = Self.parse("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n")
        else {
            Issue.record("not parsed as a message")
            return
        }
        #expect(channel == 21..<23)
        #expect(payload == 29..<32)
        #expect(length == 34)
    }

    /// A length too long for an Int was multiplied with overflow checks: the
    /// subscriber thread trapped. Such a length is left to hiredis.
    @Test(arguments: [
        "*3\r\n$99999999999999999999\r\n", "*3\r\n$7\r\nmessage\r\n$99999999999999999999999\r\nch\r\n",
        "*3\r\n$" + String(repeating: "9", count: 40) + "\r\n",
    ])
    func anAbsurdLengthIsNotAMessage(text: String) {
        guard case .other = Self.parse(text) else {
            Issue.record("parsed: \(Self.parse(text))")
            return
        }
    }

    /// Issue 17 (the parser reads through a raw pointer): every cut of a
    /// message is incomplete, never another reply or a read past the end.
    @Test(arguments: [
        "*4\r\n$8\r\npmessage\r\n$3\r\np#*\r\n$2\r\nch\r\n$3\r\nabc\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n", "*3\r\n$8\r\nsmessage\r\n$1\r\nc\r\n$10\r\n0123456789\r\n",
    ])
    func everyCutOfAMessageIsIncomplete(text: String) {
        let bytes = Array(text.utf8)
        guard case .message(_, _, let length) = Self.parse(text) else {
            Issue.record("not parsed: \(text)")
            return
        }
        #expect(length == bytes.count)
        for cut in 0..<bytes.count {
            let parsed = Array(bytes[..<cut]).withUnsafeBytes { Inbox.parseMessage($0) }
            guard case .incomplete = parsed else {
                Issue.record("cut at \(cut): \(parsed)")
                return
            }
        }
    }

    /// Short replies that are no message are not taken for a cut one
    /// (an empty array alone in the buffer would wait for bytes that never come).
    @Test(arguments: ["*0\r\n", "*1\r\n+x\r\n", "*3\r\n:1\r\n", "*3\r\n$9\r\nsubscribe\r\n", "*4\r\n$8\r\npmessagx\r\n", "+OK\r\n", "*", "*3\r\n$"])
    func aShortReplyThatIsNoMessageIsOther(text: String) {
        switch Self.parse(text) {
        case .other: break
        case .incomplete where text == "*" || text == "*3\r\n$": break
        case let parsed: Issue.record("\(text.debugDescription): \(parsed)")
        }
    }

    /// Mutated messages, cut anywhere: whatever the parser says, the ranges
    /// it gives lie inside the bytes it was given.
    @Test func mutatedInputStaysInBounds() {
        let base = Array("*4\r\n$8\r\npmessage\r\n$3\r\np#*\r\n$2\r\nch\r\n$3\r\nabc\r\n".utf8)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("*$\r\n0123456789-+:pmessage".utf8) + [0, 255]
        for _ in 0..<20_000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = alphabet.randomElement(using: &generator) ?? 0
            }
            let cut = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            let parsed = cut.withUnsafeBytes { Inbox.parseMessage($0) }
            if case .message(let channel, let payload, let length) = parsed {
                #expect(length <= cut.count && channel.upperBound <= length && payload.upperBound <= length)
                #expect(channel.lowerBound >= 0 && payload.lowerBound >= channel.upperBound)
            }
        }
    }
}
