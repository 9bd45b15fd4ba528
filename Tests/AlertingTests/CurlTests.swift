import Curl
import Foundation
import Testing
import TestSupport

/// The libcurl wrapper on its own: errors carry libcurl's code and text, and
/// a time-out is told apart.
@Suite("Curl wrapper")
struct CurlTests {
    @Test func versionNamesLibcurlAndOpenSSL() {
        #expect(CurlEasy.libraryVersion.hasPrefix("libcurl/"))
        #expect(CurlEasy.libraryVersion.contains("OpenSSL"))
    }

    @Test func aRefusedConnectionIsCode7WithTheHost() throws {
        let port = try FreePort.find()
        let curl = try CurlEasy()
        try curl.set(.url, "http://127.0.0.1:\(port)/")
        let error = #expect(throws: CurlError.self) { _ = try curl.perform() }
        #expect(error?.code == 7)
        #expect(error?.isTimeout == false)
        #expect(error?.description.contains("127.0.0.1 port \(port)") == true)
    }

    @Test func aSilentServerTimesOut() throws {
        let silent = try SilentListener()
        let curl = try CurlEasy()
        try curl.set(.url, "smtp://127.0.0.1:\(silent.port)")
        try curl.set(.timeoutMilliseconds, 300)
        try curl.set(.mailRecipients, ["<a@example.com>"])
        try curl.setUpload(Array("Subject: x\r\n\r\nbody\r\n".utf8))
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: CurlError.self) { _ = try curl.perform() }
        #expect(error?.isTimeout == true)
        #expect(clock.now - start < .seconds(2))
    }

    @Test func aDisallowedSchemeIsRefused() throws {
        let curl = try CurlEasy()
        try curl.set(.url, "file:///etc/passwd")
        try curl.set(.protocols, "http,https")
        let error = #expect(throws: CurlError.self) { _ = try curl.perform() }
        #expect(error?.code == 1)  // CURLE_UNSUPPORTED_PROTOCOL
    }

    @Test func responseAndStatusOfAPost() throws {
        let sink = try PythonSink(script: "http_sink.py", arguments: ["--statuses", "202"])
        let curl = try CurlEasy()
        try curl.set(.url, "http://127.0.0.1:\(sink.port)/x")
        try curl.set(.httpHeaders, ["Content-Type: application/octet-stream"])
        try curl.setPostBody([0x61, 0x00, 0x62])
        let response = try curl.perform()
        #expect(response.status == 202)
        #expect(response.body == Array("stored".utf8))
        // The same handle again: the response buffer starts empty.
        #expect(try curl.perform().body == Array("stored".utf8))
        #expect(sink.records().count == 2)
    }
}
