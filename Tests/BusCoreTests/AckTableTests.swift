import Foundation
import BusCore
import LocalProtocol
import SocketIOCodec
import Testing

@Suite("Ack table: who still owes an ack, and how each settled")
struct AckTableTests {
    static func at(_ ms: UInt64) -> AckTable.Time { .init(monotonicMilliseconds: ms, unixMilliseconds: 1_000_000 + Int64(ms)) }

    @Test func idsComeFromTheReservedRangeAndWrapInsideIt() {
        var table = AckTable()
        #expect(table.nextId() == AckIdRange.base + 1)
        #expect(table.nextId() == AckIdRange.base + 2)
        var nearEnd = AckTable(firstId: AckIdRange.last)
        #expect(nearEnd.nextId() == AckIdRange.last)
        #expect(nearEnd.nextId() == AckIdRange.base + 1)
    }

    @Test func eachSocketSettlesOnceWhicheverComesFirst() {
        var table = AckTable()
        let id = table.nextId()
        table.register(ackId: id, messageId: "m1", namespace: "/", sockets: ["a", "b", "c"], timeoutMilliseconds: 1000, at: Self.at(0))
        #expect(table.pendingSockets == 3)

        let delivered = table.report(ackId: id, socketId: "a", status: .delivered, arguments: [.string("ok")], at: Self.at(40))
        #expect(delivered?.status == .delivered)
        #expect(delivered?.arguments == [.string("ok")])
        #expect(delivered.map { $0.settledAt - $0.dispatchedAt } == 40)
        // A repeat, and reports for sockets or ids the table does not hold, settle nothing.
        #expect(table.report(ackId: id, socketId: "a", status: .delivered, arguments: nil, at: Self.at(41)) == nil)
        #expect(table.report(ackId: id, socketId: "zz", status: .delivered, arguments: nil, at: Self.at(41)) == nil)
        #expect(table.report(ackId: id + 1, socketId: "b", status: .delivered, arguments: nil, at: Self.at(41)) == nil)

        let gone = table.socketGone("b", at: Self.at(50))
        #expect(gone.map(\.status) == [.disconnected])
        #expect(table.socketGone("b", at: Self.at(51)).isEmpty)

        #expect(table.expire(at: Self.at(999)).isEmpty)
        let expired = table.expire(at: Self.at(1000))
        #expect(expired.map(\.socketId) == ["c"])
        #expect(expired.map(\.status) == [.timeout])
        #expect(table.pendingSockets == 0 && table.pendingMessages == 0)
    }

    @Test func deliveredWithoutArgumentsIsAnEmptyArray() {
        var table = AckTable()
        let id = table.nextId()
        table.register(ackId: id, messageId: "m", namespace: "/", sockets: ["a"], timeoutMilliseconds: 10, at: Self.at(0))
        #expect(table.report(ackId: id, socketId: "a", status: .delivered, arguments: nil, at: Self.at(1))?.arguments == [])
    }

    @Test func deadlinesExpireInTheirOwnOrderNotRegistrationOrder() {
        var table = AckTable()
        let slow = table.nextId()
        let fast = table.nextId()
        table.register(ackId: slow, messageId: "slow", namespace: "/", sockets: ["a"], timeoutMilliseconds: 500, at: Self.at(0))
        table.register(ackId: fast, messageId: "fast", namespace: "/", sockets: ["a"], timeoutMilliseconds: 100, at: Self.at(0))
        #expect(table.nextDeadline == 100)
        #expect(table.expire(at: Self.at(100)).map(\.messageId) == ["fast"])
        #expect(table.expire(at: Self.at(600)).map(\.messageId) == ["slow"])
        #expect(table.nextDeadline == nil)
    }

    @Test func aSocketThatLeavesOwesNothingForAnyMessage() {
        var table = AckTable()
        for n in 0..<3 {
            table.register(ackId: table.nextId(), messageId: "m\(n)", namespace: "/", sockets: ["a", "b"], timeoutMilliseconds: 100, at: Self.at(0))
        }
        #expect(table.socketGone("a", at: Self.at(5)).map(\.messageId) == ["m0", "m1", "m2"])
        #expect(table.pendingSockets == 3)
        #expect(table.expire(at: Self.at(100)).map(\.socketId) == ["b", "b", "b"])
    }

    @Test func registeringNoSocketsWaitsForNothing() {
        var table = AckTable()
        table.register(ackId: table.nextId(), messageId: "m", namespace: "/", sockets: [], timeoutMilliseconds: 1, at: Self.at(0))
        #expect(table.pendingMessages == 0 && table.nextDeadline == nil)
    }
}

@Suite("Message digest")
struct MessageDigestTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256MatchesTheStandardVectors(input: String, hex: String) {
        #expect(SHA256.hash(Array(input.utf8)).map { String(format: "%02x", $0) }.joined() == hex)
    }

    @Test func everyBlockBoundaryAgreesWithSha256sum() throws {
        // Lengths around the 55/56/64-byte padding edges, checked against coreutils.
        for length in [55, 56, 57, 63, 64, 65, 119, 120, 1000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(SHA256.hash(bytes).map { String(format: "%02x", $0) }.joined() == (try Sha256sum.digest(bytes)), "\(length) bytes")
        }
    }

    @Test func messageIdIsTheFirst16BytesInHex() throws {
        let payload = Array("hello".utf8)
        #expect(MessageDigest.id(of: payload) == String(try Sha256sum.digest(payload).prefix(32)))
    }
}

/// coreutils' sha256sum, as an independent implementation.
enum Sha256sum {
    static func digest(_ bytes: [UInt8]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
