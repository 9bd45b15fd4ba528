import SocketIOCodec
import Testing
import TestSupport

@testable import BusCtl

/// busctl's own requests, byte for byte as @socket.io/redis-adapter 8.3.0
/// published them (../shared/vectors/captured.jsonl), and the stock
/// answers to an acked broadcast read as the requesting node reads them.
@Suite("busctl adapter requests")
struct StockRequestTests {
    /// n1: await io.fetchSockets() (captured seq 38).
    @Test func fetchRequestIsTheAdaptersBytes() {
        let bytes = AdapterRequests.fetch(uid: "osO7f9", requestId: "riA29h", rooms: [], except: [])
        #expect(
            Hex.string(bytes)
                == "7b22756964223a226f734f376639222c22726571756573744964223a22726941323968222c2274797065223a352c226f707473223a7b22726f6f6d73223a5b5d2c22657863657074223a5b5d7d7d"
        )
        let one = AdapterRequests.fetch(
            uid: "u",
            requestId: "r",
            rooms: [.name("A"), .number(7)],
            except: [.name("B")]
        )
        #expect(
            String(decoding: one, as: UTF8.self)
                == #"{"uid":"u","requestId":"r","type":5,"opts":{"rooms":["A",7],"except":["B"]}}"#
        )
    }

    /// io.in("room1").fetchSockets() (reference vector v8_request_fetch_sockets), and
    /// SOCKETS as 7.x's `sockets(rooms)` sent it (8.x nodes still answer it).
    @Test func referenceRequestLayouts() {
        let fetch = AdapterRequests.fetch(uid: "aB3dE5", requestId: "Qw8rT1", rooms: [.name("room1")], except: [])
        #expect(
            String(decoding: fetch, as: UTF8.self)
                == #"{"uid":"aB3dE5","requestId":"Qw8rT1","type":5,"opts":{"rooms":["room1"],"except":[]}}"#
        )
        let sockets = AdapterRequests.sockets(uid: "aB3dE5", requestId: "Qw8rT1", rooms: [.name("room1"), .number(42)])
        #expect(
            String(decoding: sockets, as: UTF8.self)
                == #"{"uid":"aB3dE5","requestId":"Qw8rT1","type":0,"rooms":["room1",42]}"#
        )
    }

    /// n1: io.timeout(2000).emit('ev', {ask:1}, cb) (captured seq 28).
    @Test func acknowledgedBroadcastRequestIsTheAdaptersBytes() throws {
        let bytes = try AdapterRequests.broadcastWithAck(
            uid: "osO7f9",
            requestId: "bpevJE",
            data: [.string("ev"), .object(JSObject([("ask", .number(1))]))],
            namespace: "/",
            rooms: [],
            except: [],
            flags: JSObject([("timeout", .number(2000))])
        )
        #expect(
            Hex.string(bytes)
                == "85a3756964a66f734f376639a9726571756573744964a6627065764a45a47479706507a67061636b657483a47479706502a46461746192a2657681a361736b01a36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd07d0"
        )
    }

    /// n2's answers to that request (captured seq 29, 30, 31): a count of 2, then two acks.
    @Test func stockAnswersCompleteTheWait() throws {
        var wait = StockAckWait(requestId: "bpevJE", socketIds: ["A", "C"], servers: 1)
        let answers = [
            "7b2274797065223a382c22726571756573744964223a22627065764a45222c22636c69656e74436f756e74223a327d",
            "83a47479706509a9726571756573744964a6627065764a45a67061636b657483a6636c69656e74a141a56576656e74a26576a16e01",
            "83a47479706509a9726571756573744964a6627065764a45a67061636b657483a6636c69656e74a143a56576656e74a26576a16e01",
        ]
        for (index, hex) in answers.enumerated() {
            #expect(!wait.isComplete)
            let payload = Hex.bytes(hex)
            let encoding = PayloadEncoding.sniff(payload)
            let message = try ResponseMessage(
                AdapterMessage.decodeValue(payload, encoding: encoding),
                encoding: encoding
            )
            let event = wait.take(message)
            switch (index, event) {
            case (0, .clientCount(2)?), (1, .ack?), (2, .ack?): break
            default: Issue.record("answer \(index) read as \(String(describing: event))")
            }
        }
        #expect(wait.isComplete && wait.clients == 2 && wait.acks.count == 2)
        #expect(wait.acks.first?["client"] == .string("A"))
        // Another request's answers are not this one's.
        var other = StockAckWait(requestId: "xxxxxx", socketIds: [], servers: 1)
        let payload = Hex.bytes(answers[0])
        #expect(
            other.take(try ResponseMessage(AdapterMessage.decodeValue(payload, encoding: .json), encoding: .json))
                == nil
        )
        #expect(!other.isComplete)
    }

    /// Counts come from anyone who can publish on the response channel:
    /// many huge ones saturate, never trap.
    @Test func hugeClientCountsSaturate() throws {
        var wait = StockAckWait(requestId: "r", socketIds: [], servers: 1)
        let count = JSValue.object(
            JSObject([("type", .number(8)), ("requestId", .string("r")), ("clientCount", .number(9.9e14))])
        )
        let message = try ResponseMessage(count, encoding: .json)
        for _ in 0..<10_000 { _ = wait.take(message) }
        #expect(wait.clients == Int.max && wait.answeredServers == 10_000 && !wait.isComplete)
    }

    @Test func terminalControlCharactersFromOtherServersAreShownEscaped() {
        #expect(Printable.text("curl\u{1b}[31m\nx\u{9b}é") == "curl\\u{1b}[31m\\u{a}x\\u{9b}é")
    }
}
