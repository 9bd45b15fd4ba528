import Foundation
import Testing
import TestSupport

/// Runs the built `busctl` binary (never /usr/bin/busctl, which is systemd's).
@Suite("busctl inspect")
struct InspectCommandTests {
    static let binary: URL = {
        // The test bundle sits next to the products in the build directory.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("busctl").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("busctl")
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs busctl (or `executable`) to the end; `environment` replaces the inherited one.
    static func run(
        _ arguments: [String], stdin: [UInt8]? = nil, executable: URL = binary, environment: [String: String]? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }

    // emitter.to('roomA').emit('bin', {name: 'file.bin', data: Buffer<00 01 02 fe ff>}), captured.
    static let binaryBroadcast =
        "93a7656d697474657283a47479706502a46461746192a362696e82a46e616d65a866696c652e62696ea464617461c405000102feffa36e7370a12f83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490"

    @Test func jsonOutputHasThePacketAndAttachments() throws {
        let result = try Self.run(["inspect", "--json", "--channel", "socket.io#/#roomA#", "--hex", Self.binaryBroadcast])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["packet"] as? String == #"51-["bin",{"name":"file.bin","data":{"_placeholder":true,"num":0}}]"#)
        #expect(json?["attachments"] as? [String] == ["000102feff"])
        #expect(json?["kind"] as? String == "broadcast")
        #expect(json?["uid"] as? String == "emitter")
        #expect(json?["rooms"] as? [String] == ["roomA"])
    }

    @Test func ackIdIsInjected() throws {
        let result = try Self.run(["inspect", "--json", "--ack-id", "9007199254740000", "--hex", Self.binaryBroadcast])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["ackPacket"] as? String == #"51-9007199254740000["bin",{"name":"file.bin","data":{"_placeholder":true,"num":0}}]"#)
    }

    @Test func rawBytesOnStandardInput() throws {
        let bytes = Hex.bytes(Self.binaryBroadcast)
        let result = try Self.run(["inspect", "--channel", "socket.io#/#roomA#"], stdin: bytes)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#"packet"#))
        #expect(result.stdout.contains(#"451-["bin""#))
        #expect(result.stdout.contains("000102feff"))
        #expect(result.stdout.contains("@socket.io/redis-emitter"))
    }

    @Test func requestsAreDescribed() throws {
        let hex = Hex.string(#"{"uid":"aB3dE5","type":4,"opts":{"rooms":["room1"],"except":[]},"close":true}"#.utf8)
        let result = try Self.run(["inspect", "--channel", "socket.io-request#/#", "--hex", hex])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("REMOTE_DISCONNECT"))
    }

    @Test(arguments: [
        ("93a661", "byte 0"),  // an array of 3 with 2 bytes left
        ("dd7fffffff", "byte 0"),  // an array announcing 2 billion elements
        ("91c1", "byte 1"),  // 0xc1 is no MessagePack type
        ("93a2fffe8080", "byte 2"),  // invalid UTF-8
    ])
    func malformedPayloadExitsOneNamingTheOffset(_ hex: String, _ offset: String) throws {
        let result = try Self.run(["inspect", "--hex", hex])
        #expect(result.status == 1)
        #expect(result.stderr.contains(offset), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func badHexIsAUsageError() throws {
        let result = try Self.run(["inspect", "--hex", "9z"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("hex"))
    }
}
