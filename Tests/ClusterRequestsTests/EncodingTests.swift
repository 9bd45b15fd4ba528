import SocketIOCodec
import Testing

/// Every request and response shape, re-encoded from its decoded fields by
/// the stock encoders, against the bytes real nodes and emitters published.
@Suite("Request and response encoders against captured traffic")
struct EncodingTests {
    static let requests = Captured.messages("request")
    static let responses = Captured.messages("response")

    @Test func capturesAreThere() {
        #expect(Self.requests.count >= 10)
        #expect(Self.responses.count >= 10)
    }

    @Test(arguments: requests)
    func requestIsReencodedByteForByte(_ capture: Captured.Capture) throws {
        let channel = try AdapterChannel(parsing: capture.channel)
        guard case .request(let request) = try AdapterMessage.decode(capture.payload, channel: channel) else {
            Issue.record("not a request")
            return
        }
        let encoded: [UInt8]
        switch request.kind {
        case .serverSideEmit(let data):
            encoded = RequestEncoding.serverSideEmit(uid: request.uid!, requestId: request.requestId, data: data)
        case .remoteJoin(.selector(let rooms, let except), let joined):
            encoded = RequestEncoding.socketsJoinOrLeave(
                join: true,
                uid: request.uid,
                rooms: rooms,
                except: except,
                joined: joined
            )
        case .remoteLeave(.selector(let rooms, let except), let left):
            encoded = RequestEncoding.socketsJoinOrLeave(
                join: false,
                uid: request.uid,
                rooms: rooms,
                except: except,
                joined: left
            )
        case .remoteFetch(let rooms, let except):
            encoded = RequestEncoding.remoteFetch(
                uid: request.uid!,
                requestId: request.requestId!,
                rooms: rooms,
                except: except
            )
        case .allRooms:
            encoded = RequestEncoding.allRooms(uid: request.uid!, requestId: request.requestId!)
        case .broadcast(let message):
            encoded = try RequestEncoding.broadcastWithAck(
                uid: request.uid!,
                requestId: request.requestId!,
                packet: message.packet,
                rooms: message.rooms,
                except: message.except ?? [],
                flags: message.flags
            )
        default:
            Issue.record("no encoder exercised for \(request.typeName)")
            return
        }
        #expect(encoded == capture.payload, "\(String(decoding: encoded, as: UTF8.self)) vs \(capture.text)")
    }

    @Test(arguments: responses)
    func responseIsReencodedByteForByte(_ capture: Captured.Capture) throws {
        let channel = try AdapterChannel(parsing: capture.channel)
        guard case .response(let response) = try AdapterMessage.decode(capture.payload, channel: channel),
            let requestId = response.requestId
        else {
            Issue.record("not a response")
            return
        }
        let encoded: [UInt8]
        switch response.kind {
        case .broadcastClientCount(let n):
            encoded = ResponseEncoding.broadcastClientCount(requestId: requestId, clientCount: n)
        case .broadcastAck(let argument):
            encoded = try ResponseEncoding.broadcastAck(requestId: requestId, argument: argument)
        case .serverSideEmit(let data):
            encoded = ResponseEncoding.serverSideEmit(requestId: requestId, data: data)
        case .fetchedSockets(let sockets):
            encoded = ResponseEncoding.fetchedSockets(requestId: requestId, sockets: sockets)
            // The node's own JSON spliced in as is gives the same bytes.
            let json = JSONStringifier.string(.array(sockets))!
            #expect(
                ResponseEncoding.fetchedSockets(requestId: requestId, socketsJSON: Array(json.utf8)) == capture.payload
            )
        case .rooms(let rooms):
            encoded = ResponseEncoding.allRooms(requestId: requestId, rooms: rooms)
        default:
            Issue.record("no encoder exercised for \(response.kind)")
            return
        }
        #expect(encoded == capture.payload, "\(String(decoding: encoded, as: UTF8.self)) vs \(capture.text)")
    }

    /// Shapes the capture has no sample of, written out by hand from the
    /// adapter's source (key order) and checked against the codec's decoder.
    @Test(
        arguments: [
            (
                RequestEncoding.sockets(uid: "aB3dE5", requestId: "Qw8rT1", rooms: [.name("r"), .number(7)]),
                #"{"uid":"aB3dE5","requestId":"Qw8rT1","type":0,"rooms":["r",7]}"#
            ),
            (
                RequestEncoding.socketsJoinOrLeave(
                    join: true,
                    uid: "aB3dE5",
                    rooms: [.number(123)],
                    except: [.name("x")],
                    joined: [.name("j")]
                ),
                #"{"uid":"aB3dE5","type":2,"opts":{"rooms":[123],"except":["x"]},"rooms":["j"]}"#
            ),
            (
                RequestEncoding.disconnectSockets(uid: "aB3dE5", rooms: [], except: [], close: true),
                #"{"uid":"aB3dE5","type":4,"opts":{"rooms":[],"except":[]},"close":true}"#
            ),
            (
                RequestEncoding.disconnectSockets(uid: nil, rooms: [.name("a")], except: [], close: false),
                #"{"type":4,"opts":{"rooms":["a"],"except":[]},"close":false}"#
            ),
            (
                RequestEncoding.remoteSocket(
                    type: 2,
                    uid: "aB3dE5",
                    requestId: "Qw8rT1",
                    sid: "S",
                    room: .name("r"),
                    close: false
                ),
                #"{"uid":"aB3dE5","requestId":"Qw8rT1","type":2,"sid":"S","room":"r"}"#
            ),
            (
                RequestEncoding.remoteSocket(
                    type: 4,
                    uid: "aB3dE5",
                    requestId: "Qw8rT1",
                    sid: "S",
                    room: nil,
                    close: true
                ),
                #"{"uid":"aB3dE5","requestId":"Qw8rT1","type":4,"sid":"S","close":true}"#
            ),
            (
                RequestEncoding.legacy(requestId: "Zx9cV7", type: 1, [("sid", .string("S"))]),
                #"{"requestid":"Zx9cV7","type":1,"sid":"S"}"#
            ),
            (
                ResponseEncoding.sockets(requestId: "Qw8rT1", socketIds: ["a", "b"]),
                #"{"requestId":"Qw8rT1","sockets":["a","b"]}"#
            ),
            (
                ResponseEncoding.allRooms(requestId: "Qw8rT1", rooms: [.name("123"), .number(123)]),
                #"{"requestId":"Qw8rT1","rooms":["123",123]}"#
            ),
            (
                ResponseEncoding.fetchedSockets(
                    requestId: "Qw8rT1",
                    sockets: [ResponseEncoding.registrySocket(id: "S", rooms: [.name("S"), .number(5)])]
                ),
                #"{"requestId":"Qw8rT1","sockets":[{"id":"S","handshake":{},"rooms":["S",5]}]}"#
            ),
            (
                ResponseEncoding.serverSideEmit(requestId: "Qw8rT1", data: .undefined),
                #"{"type":6,"requestId":"Qw8rT1"}"#
            ),
            (ResponseEncoding.acknowledged(requestId: "Qw8rT1"), #"{"requestId":"Qw8rT1"}"#),
            (ResponseEncoding.legacy(requestId: "Zx9cV7"), #"{"requestid":"Zx9cV7"}"#),
            (
                ResponseEncoding.legacy(requestId: "Zx9cV7", [("clients", .array([.string("a")]))]),
                #"{"requestid":"Zx9cV7","clients":["a"]}"#
            ),
            (ResponseEncoding.legacy(requestId: "Zx9cV7", [("data", .null)]), #"{"requestid":"Zx9cV7","data":null}"#),
        ] as [([UInt8], String)]
    )
    func handWrittenShapes(_ encoded: [UInt8], _ expected: String) throws {
        #expect(String(decoding: encoded, as: UTF8.self) == expected)
        _ = try AdapterMessage.decodeValue(encoded, encoding: .json)
    }

    @Test func broadcastAckWithoutArgumentLeavesThePacketKeyOut() throws {
        // notepack 3 omits undefined-valued keys: fixmap 2, {type: 9, requestId}.
        let encoded = try ResponseEncoding.broadcastAck(requestId: "abcdef", argument: .undefined)
        #expect(
            encoded == [0x82, 0xA4] + Array("type".utf8) + [0x09, 0xA9] + Array("requestId".utf8) + [0xA6]
                + Array("abcdef".utf8)
        )
    }
}
