import ClusterRequests
import SocketIOCodec
import Testing

/// fetchSockets answers taken as the JSON text they came in (skimmed, not
/// parsed): the reply to the node holds the same sockets, in the same order,
/// as when every answer was parsed and re-encoded.
@Suite("fetchSockets answers passed on without parsing")
struct RawFetchTests {
    var machine = OutgoingRequests(settings: .init(uid: "osO7f9"), makeRequestId: { "riA29h" })

    mutating func start(servers: Int) {
        _ = machine.request(
            1,
            kind: 2,
            namespace: "/",
            timeoutMilliseconds: 5000,
            body: Array(#"{"rooms":[],"except":[]}"#.utf8),
            now: 0
        )
        _ = machine.serverCount(request: 1, result: .success(servers), now: 0)
    }

    /// What the caller does with a payload: skim, then hand over the array.
    mutating func raw(_ text: String) -> [ClusterAction] {
        let payload = Array(text.utf8)
        guard let member = JSONSkim().member("sockets", of: payload) else { return [] }
        let array = member.flatMap { payload[$0].first == UInt8(ascii: "[") ? payload[$0] : nil }
        return machine.fetchedSockets(requestId: "riA29h", socketsArray: array)
    }

    func replyBody(_ actions: [ClusterAction]) -> String? {
        for case .reply(_, _, let body) in actions { return String(decoding: body, as: UTF8.self) }
        return nil
    }

    @Test mutating func rawAnswersAreJoinedInArrivalOrderWithParsedOnes() throws {
        start(servers: 6)
        #expect(machine.collectsSockets("riA29h"))
        #expect(raw(#"{"requestId":"riA29h","sockets":[ {"id":"A","data":{"n":1e3,"s":"\u00e9\""}} ]}"#).isEmpty)
        // An empty array and a `sockets` that is not an array count as answers with no socket.
        #expect(raw(#"{"requestId":"riA29h","sockets":[ ]}"#).isEmpty)
        #expect(raw(#"{"requestId":"riA29h","sockets":{"id":"X"}}"#).isEmpty)
        // A msgpack (or otherwise parsed) answer between them keeps its place.
        let parsed = try ResponseMessage(
            JSONParser().parse(Array(#"{"requestId":"riA29h","sockets":[{"id":"B"}]}"#.utf8)),
            encoding: .msgpack
        )
        #expect(machine.response(parsed).isEmpty)
        let done = raw(#"{"requestId":"riA29h","sockets":[{"id":"C","rooms":[7,"r"]},{"id":"D"}]}"#)
        let body = try #require(replyBody(done))
        #expect(
            body
                == #"{"sockets":[{"id":"A","data":{"n":1e3,"s":"\u00e9\""}},{"id":"B"},{"id":"C","rooms":[7,"r"]},{"id":"D"}]}"#
        )
        // The node reads the same values as from the parsed and re-encoded reply.
        let sockets = try JSONParser().parse(Array(body.utf8))["sockets"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(sockets == ["A", "B", "C", "D"])
        #expect(!machine.collectsSockets("riA29h"))
    }

    @Test mutating func malformedJSONIsNotTakenRaw() {
        start(servers: 2)
        for bad in [
            #"{"requestId":"riA29h","sockets":[{"id":"A"]}"#,
            #"{"requestId":"riA29h","sockets":[1,]}"#,
            #"{"requestId":"riA29h","sockets":["\x"]}"#,
            #"{"requestId":"riA29h","sockets":[]} trailing"#,
        ] {
            #expect(JSONSkim().member("sockets", of: Array(bad.utf8)) == nil, "\(bad)")
        }
        // Nothing was counted: the one answer still completes the request.
        #expect(replyBody(raw(#"{"requestId":"riA29h","sockets":[{"id":"A"}]}"#)) == #"{"sockets":[{"id":"A"}]}"#)
    }
}

/// JSONSkim accepts exactly what JSONParser accepts.
@Suite("JSONSkim against JSONParser")
struct JSONSkimTests {
    static let texts: [String] = [
        "[]", "{}", " [1, -0, 0.5, 1e10, -2E-3, 1.5e+2] ", #"{"a":{"b":[true,false,null,"x"]}}"#,
        #""\ud83d\ude00 \/ \b\f\n\r\t \u0041""#, "\"caf\u{e9} \u{1F600}\"", "123", "-", "01", "1.", ".5", "1e",
        "[1 2]", "{\"a\" 1}", "{\"a\":}", "{,}", "[,1]", "tru", "nul", "[true", "\"abc", "\"a\u{1}\"", "\"\\u12\"",
        "\"\\q\"", "", "  ", "[]]", "{\"a\":1,}", "{1:2}", String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
        String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
    ]

    @Test(arguments: texts)
    func agreesWithTheParser(_ text: String) {
        let bytes = Array(text.utf8)
        let parses = (try? JSONParser().parse(bytes)) != nil
        #expect(JSONSkim().isValid(bytes) == parses, "\(text)")
    }

    @Test func invalidUTF8IsRejectedAsByTheParser() {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xFF, 0x22]] {
            let parses = (try? JSONParser().parse(bytes)) != nil
            #expect(JSONSkim().isValid(bytes) == parses)
            #expect(!JSONSkim().isValid(bytes))
        }
    }

    @Test func findsTheLastTopLevelMemberOnly() throws {
        let text = Array(#"{"x":{"sockets":1},"sockets":[1],"y":2,"sockets":[ 2 , 3 ]}"#.utf8)
        let member = try #require(JSONSkim().member("sockets", of: text))
        let range = try #require(member)
        #expect(String(decoding: text[range], as: UTF8.self) == "[ 2 , 3 ]")
        let ofArray = try #require(JSONSkim().member("sockets", of: Array(#"["sockets"]"#.utf8)))
        #expect(ofArray == nil)
        #expect(JSONSkim().isArray(Array(" [1]".utf8)))
        #expect(!JSONSkim().isArray(Array("{}".utf8)))
    }
}

/// The registry's answers, now written straight into bytes, are the bytes
/// the JSValue encoder wrote.
@Suite("registry answers written directly")
struct DirectEncodingTests {
    @Test func socketsAllRoomsAndFetchMatchTheValueEncoder() {
        let ids = ["AgUEon6wzXtHqqioAAAB", "a\"b\\c\u{1}", "caf\u{e9}"]
        #expect(
            ResponseEncoding.sockets(requestId: "Qw8\"T1", socketIds: ids)
                == JSONText.bytes(.object(JSObject([("requestId", .string("Qw8\"T1")), ("sockets", .array(ids.map(JSValue.string)))])))
        )
        let fromBytes = ResponseEncoding.sockets(requestId: "Qw8\"T1") { body in
            for var id in ids { id.withUTF8 { body(UnsafeRawBufferPointer($0)) } }
        }
        #expect(fromBytes == ResponseEncoding.sockets(requestId: "Qw8\"T1", socketIds: ids))
        let rooms: [Room] = [.name("r\n"), .number(123), .number(-0.5), .number(1e21), .name("")]
        #expect(
            ResponseEncoding.allRooms(requestId: "Qw8rT1", rooms: rooms)
                == JSONText.bytes(.object(JSObject([("requestId", .string("Qw8rT1")), ("rooms", .array(rooms.map(\.jsValue)))])))
        )
        let sockets: [(id: String, rooms: [Room])] = [("S", [.name("S"), .number(5)]), ("T\"", [])]
        #expect(
            ResponseEncoding.fetchedSockets(requestId: "Qw8rT1", registrySockets: sockets)
                == ResponseEncoding.fetchedSockets(
                    requestId: "Qw8rT1",
                    sockets: sockets.map { ResponseEncoding.registrySocket(id: $0.id, rooms: $0.rooms) }
                )
        )
        #expect(ResponseEncoding.sockets(requestId: "r", socketIds: []) == Array(#"{"requestId":"r","sockets":[]}"#.utf8))
    }
}
