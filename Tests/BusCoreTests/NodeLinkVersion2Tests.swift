import BusCore
import Foundation
import Hiredis
import LocalProtocol
import SocketIOCodec
import Testing
import TestSupport

/// Version 2 of the local protocol on a real node link and redis-server:
/// HELLO negotiation, the session's version, the node's new frames and the
/// commands only a version 2 node gets.
@Suite("Node link: protocol version 2", .serialized)
struct NodeLinkVersion2Tests {
    static let sid = "AgUEon6wzXtHqqioAAAB"

    static func hello(_ client: TestNodeClient, version: UInt16) throws -> LocalFrame? {
        client.send(.hello(version: version, node: "test-node", pid: 1))
        return try client.receive()
    }

    @Test func welcomeAnswersTheVersionAskedUpToTwo() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        for asked: UInt16 in [1, 2] {
            let client = try TestNodeClient(path: f.path)
            let welcome = try Self.hello(client, version: asked)
            #expect(
                welcome
                    == .welcome(
                        version: asked,
                        uid: f.member.uid,
                        nodeId: "n1",
                        ackIdBase: 1 << 52,
                        ackTimeoutMilliseconds: 30_000
                    )
            )
            #expect(f.member.nodeSessionVersion == asked)
            client.disconnect()
            #expect(eventually { f.link.connectionCount == 0 && f.member.nodeSessionVersion == 0 })
        }
        // A connector that reconnects while its old connection lingers: the
        // member keeps the live session's version until the last one ends.
        let first = try TestNodeClient(path: f.path)
        #expect(try Self.hello(first, version: 2)?.name == "WELCOME")
        let second = try TestNodeClient(path: f.path)
        #expect(try Self.hello(second, version: 1)?.name == "WELCOME")
        #expect(f.member.nodeSessionVersion == 2)
        second.disconnect()
        #expect(eventually { f.link.connectionCount == 1 && f.member.nodeSessionVersion == 2 })
        first.disconnect()
        #expect(eventually { f.link.connectionCount == 0 && f.member.nodeSessionVersion == 0 })
        for asked: UInt16 in [0, 3, 0xffff] {
            let client = try TestNodeClient(path: f.path)
            guard case .error(let code, let message)? = try Self.hello(client, version: asked) else {
                Issue.record("ERROR expected for version \(asked)")
                continue
            }
            #expect(code == 2, "\(message)")
            #expect(message.contains("asked for \(asked)"))
            #expect(client.isClosedByPeer())
            #expect(f.member.nodeSessionVersion == 0)
        }
    }

    /// One frame of each version 2 type.
    static let version2Frames: [LocalFrame] = [
        .namespace("/"),
        .roomsJoin(namespace: "/", socketId: sid, rooms: [.number(1)]),
        .roomsLeave(namespace: "/", socketId: sid, rooms: [.name("a")]),
        .roomsBroadcast(
            namespace: "/",
            flags: DeliveryFlags(),
            rooms: [],
            except: [],
            packet: Array("2[\"x\"]".utf8),
            attachments: []
        ),
        .delivered(ackId: 1, namespace: "/", socketIds: []),
        .answer(request: 1, status: 0, body: Array("[]".utf8)),
        .clusterRequest(request: 1, kind: 1, namespace: "/", timeoutMilliseconds: 100, body: []),
        .broadcastWithAck(
            request: 1,
            namespace: "/",
            flags: DeliveryFlags(),
            rooms: [],
            except: [],
            timeoutMilliseconds: 100,
            packet: Array("21[\"x\"]".utf8),
            attachments: []
        ),
        .deliverToRooms(
            ackId: 0,
            flags: DeliveryFlags(),
            namespace: "/",
            rooms: [],
            except: [],
            packet: [],
            attachments: []
        ),
        .apply(op: .join, namespace: "/", rooms: [], except: [], targets: [], close: false),
        .question(request: 1, kind: 1, namespace: "/", body: []),
        .clusterReply(request: 1, status: 0, body: []),
        .ackCount(request: 1, clientCount: 0),
        .ackArgument(request: 1, argument: []),
    ]

    @Test func aVersion2FrameOnAVersion1SessionIsUnexpectedAndCloses() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        for frame in Self.version2Frames {
            let client = try TestNodeClient(path: f.path)
            #expect(try Self.hello(client, version: 1)?.name == "WELCOME")
            client.send(.socketConnect(namespace: "/", socketId: Self.sid, connectedAt: 1))
            client.send(frame)
            guard case .error(let code, let message)? = try client.receive() else {
                Issue.record("ERROR expected after \(frame.name)")
                continue
            }
            #expect(code == 3, "\(frame.name): \(message)")
            #expect(client.isClosedByPeer(), "\(frame.name)")
            #expect(eventually { f.link.connectionCount == 0 && f.member.socketCount == 0 }, "\(frame.name)")
        }
        #expect(f.link.rejectedFrameCount == 0)
    }

    @Test func busdToNodeFramesFromTheNodeAreUnexpectedOnAVersion2Session() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        for frame in Self.version2Frames.suffix(6) {
            let client = try TestNodeClient(path: f.path)
            #expect(try Self.hello(client, version: 2)?.name == "WELCOME")
            client.send(frame)
            guard case .error(let code, _)? = try client.receive() else {
                Issue.record("ERROR expected after \(frame.name)")
                continue
            }
            #expect(code == 3, "\(frame.name)")
            #expect(client.isClosedByPeer(), "\(frame.name)")
        }
    }

    @Test func namespaceAndTypedRoomsReachTheMember() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        #expect(try Self.hello(client, version: 2)?.name == "WELCOME")
        client.send(.namespace("/chat"))
        client.send(.socketConnect(namespace: "/chat", socketId: Self.sid, connectedAt: 1))
        client.send(.roomsJoin(namespace: "/chat", socketId: Self.sid, rooms: [.name("roomA"), .number(123)]))
        client.send(.ping(token: 1))
        #expect(try client.receive() == .pong(token: 1))
        #expect(f.member.socket(Self.sid)?.rooms.sorted() == ["123", "roomA"])
        #expect(eventually { f.member.subscribedPatterns.contains("socket.io#/chat#*") })
        client.send(.roomsLeave(namespace: "/chat", socketId: Self.sid, rooms: [.number(123)]))
        client.send(.delivered(ackId: 5, namespace: "/chat", socketIds: [Self.sid]))
        client.send(.answer(request: 1, status: 1, body: []))
        client.send(.ping(token: 2))
        #expect(try client.receive() == .pong(token: 2))
        #expect(f.member.socket(Self.sid)?.rooms == ["roomA"])
        #expect(f.link.rejectedFrameCount == 0)
    }

    /// Issue 13: `to(123)` is published as a stock node does, `[123]` as a
    /// msgpack integer on the room channel `socket.io#/#123#`; `to("123")`
    /// stays a string on the same channel.
    @Test func numericRoomsArePublishedAsMsgpackIntegers() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        #expect(try Self.hello(client, version: 2)?.name == "WELCOME")
        let watcher = try RedisConnection(endpoint: .unix(path: f.server.socketPath))
        _ = try watcher.command(["SUBSCRIBE", "socket.io#/#123#"])
        for room in [LocalRoom.number(123), .name("123")] {
            client.send(
                .roomsBroadcast(
                    namespace: "/",
                    flags: DeliveryFlags(),
                    rooms: [room],
                    except: [.number(7)],
                    packet: Array(#"2["news",1]"#.utf8),
                    attachments: []
                )
            )
            let message = try watcher.readReply()
            guard case .array(let parts) = message, parts.count == 3, case .bulk(let published) = parts[2] else {
                Issue.record("no message: \(message)")
                continue
            }
            // [uid, {type: 2, data: ["news", 1], nsp: "/"}, {rooms: [123], except: [7], flags: {}}]
            let roomBytes: [UInt8] = room == .number(123) ? [0x7b] : [0xa3, 0x31, 0x32, 0x33]
            var expected: [UInt8] = [0x93, 0xa6] + Array(f.member.uid.utf8)
            expected += [0x83, 0xa4] + Array("type".utf8) + [0x02, 0xa4] + Array("data".utf8)
            expected += [0x92, 0xa4] + Array("news".utf8) + [0x01, 0xa3] + Array("nsp".utf8) + [0xa1, 0x2f]
            expected += [0x83, 0xa5] + Array("rooms".utf8) + [0x91] + roomBytes
            expected += [0xa6] + Array("except".utf8) + [0x91, 0x07, 0xa5] + Array("flags".utf8) + [0x80]
            #expect(published == expected, "\(room): \(Hex.string(published))")
        }
    }

    @Test func unusableVersion2ContentIsAnsweredAndTheLinkStays() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        let client = try TestNodeClient(path: f.path)
        #expect(try Self.hello(client, version: 2)?.name == "WELCOME")
        let unusable: [LocalFrame] = [
            .clusterRequest(request: 1, kind: 0, namespace: "/", timeoutMilliseconds: 100, body: []),
            .clusterRequest(request: 2, kind: 11, namespace: "/", timeoutMilliseconds: 100, body: []),
            .broadcastWithAck(
                request: 3,
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: [],
                except: [],
                timeoutMilliseconds: 100,
                packet: [0x83, 0xa4],
                attachments: []
            ),
            .roomsBroadcast(
                namespace: "/",
                flags: DeliveryFlags(),
                rooms: [.number(1)],
                except: [],
                packet: [0x93, 0x01],
                attachments: []
            ),
        ]
        for (index, frame) in unusable.enumerated() {
            client.send(frame)
            guard case .error(let code, let message)? = try client.receive() else {
                Issue.record("ERROR 6 expected after \(frame.name)")
                continue
            }
            #expect(code == 6, "\(frame.name): \(message)")
            #expect(f.link.rejectedFrameCount == index + 1)
        }
        client.send(.ping(token: 3))
        #expect(try client.receive() == .pong(token: 3))
        #expect(f.link.connectionCount == 1)
    }

    /// The connections' threads use the member up to their end: stop waits
    /// for them (it used to return at once, with the node's sockets still
    /// registered and the threads still running into a member about to go).
    @Test func stopReturnsOnceEveryConnectionHasEnded() throws {
        let f = try NodeLinkFixture()
        let client = try TestNodeClient(path: f.path)
        #expect(try Self.hello(client, version: 2)?.name == "WELCOME")
        client.send(.namespace("/"))
        client.send(.socketConnect(namespace: "/", socketId: Self.sid, connectedAt: 1))
        #expect(eventually { f.member.socketCount == 1 })
        f.link.stop()
        #expect(f.link.connectionCount == 0)
        #expect(f.member.socketCount == 0)
        f.stop()
    }

    @Test func questionsAndRepliesGoToTheNewestSessionOnly() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        // A connector that reconnected while its old connection lingers.
        let old = try TestNodeClient(path: f.path)
        #expect(try Self.hello(old, version: 2)?.name == "WELCOME")
        let new = try TestNodeClient(path: f.path)
        #expect(try Self.hello(new, version: 2)?.name == "WELCOME")
        let oneSession: [NodeCommand] = [
            .question(request: 4, kind: 1, namespace: "/", body: Array("{}".utf8)),
            .clusterReply(request: 5, status: 0, body: Array(#"{"sockets":[]}"#.utf8)),
            .ackCount(request: 6, clientCount: 3),
            .ackArgument(request: 6, argument: Array(#""ok""#.utf8)),
        ]
        for command in oneSession { f.link.send(command) }
        // What every session gets, as a marker: the old one's first frame
        // must be this, not a question or a reply.
        let apply = NodeCommand.apply(namespace: "/", rooms: [], except: [], action: .disconnect(close: false))
        f.link.send(apply)
        #expect(try new.receive()?.name == "QUESTION")
        #expect(try new.receive()?.name == "CLUSTER_REPLY")
        #expect(try new.receive()?.name == "ACK_COUNT")
        #expect(try new.receive()?.name == "ACK_ARGUMENT")
        #expect(try new.receive()?.name == "APPLY")
        #expect(try old.receive()?.name == "APPLY")
        // Once the newest has gone, the one left gets them.
        new.disconnect()
        #expect(eventually { f.link.connectionCount == 1 })
        f.link.send(oneSession[0])
        #expect(try old.receive()?.name == "QUESTION")
        old.disconnect()
    }

    @Test func version2CommandsGoToVersion2SessionsOnly() throws {
        let f = try NodeLinkFixture()
        defer { f.stop() }
        // No node at all, then only a v1 node: a v2 command has nowhere to go.
        f.link.send(.ackCount(request: 1, clientCount: 2))
        #expect(f.link.droppedWithoutNodeCount == 1)
        let old = try TestNodeClient(path: f.path)
        #expect(try Self.hello(old, version: 1)?.name == "WELCOME")
        f.link.send(.ackCount(request: 1, clientCount: 2))
        #expect(f.link.droppedWithoutNodeCount == 2)

        let new = try TestNodeClient(path: f.path)
        #expect(try Self.hello(new, version: 2)?.name == "WELCOME")
        let commands: [(NodeCommand, LocalFrame)] = [
            (
                .deliverToRooms(
                    namespace: "/",
                    rooms: [.name("roomA"), .number(123)],
                    except: [.name(Self.sid)],
                    ackId: 4_503_599_627_370_497,
                    packet: Array(#"24503599627370497["x",1]"#.utf8),
                    attachments: [[1]],
                    volatile: true,
                    compress: false
                ),
                .deliverToRooms(
                    ackId: 4_503_599_627_370_497,
                    flags: DeliveryFlags(volatile: true, compress: false),
                    namespace: "/",
                    rooms: [.name("roomA"), .number(123)],
                    except: [.name(Self.sid)],
                    packet: Array(#"24503599627370497["x",1]"#.utf8),
                    attachments: [[1]]
                )
            ),
            (
                .apply(namespace: "/", rooms: [.number(5)], except: [], action: .join([.name("vip"), .number(9)])),
                .apply(
                    op: .join,
                    namespace: "/",
                    rooms: [.number(5)],
                    except: [],
                    targets: [.name("vip"), .number(9)],
                    close: false
                )
            ),
            (
                .apply(namespace: "/", rooms: [], except: [.name("x")], action: .leave([.name("vip")])),
                .apply(
                    op: .leave,
                    namespace: "/",
                    rooms: [],
                    except: [.name("x")],
                    targets: [.name("vip")],
                    close: false
                )
            ),
            (
                .apply(namespace: "/", rooms: [.name("r")], except: [], action: .disconnect(close: true)),
                .apply(op: .disconnect, namespace: "/", rooms: [.name("r")], except: [], targets: [], close: true)
            ),
            (
                .question(request: 4, kind: 1, namespace: "/", body: Array("{}".utf8)),
                .question(request: 4, kind: 1, namespace: "/", body: Array("{}".utf8))
            ),
            (
                .clusterReply(request: 5, status: 1, body: Array(#"{"count":2}"#.utf8)),
                .clusterReply(request: 5, status: 1, body: Array(#"{"count":2}"#.utf8))
            ),
            (.ackCount(request: 6, clientCount: 3), .ackCount(request: 6, clientCount: 3)),
            (
                .ackArgument(request: 6, argument: Array(#""ok""#.utf8)),
                .ackArgument(request: 6, argument: Array(#""ok""#.utf8))
            ),
        ]
        for (command, frame) in commands {
            f.link.send(command)
            #expect(try new.receive() == frame)
        }
        #expect(f.link.deliveredFrameCount == 1)
        // What the protocol cannot carry is dropped and counted; the link stays.
        f.link.send(
            .deliverToRooms(
                namespace: "/",
                rooms: [.number(.nan)],
                except: [],
                ackId: 0,
                packet: [],
                attachments: [],
                volatile: false,
                compress: nil
            )
        )
        f.link.send(
            .apply(namespace: "/", rooms: [], except: [], action: .join([.name(String(repeating: "r", count: 70_000))]))
        )
        #expect(f.link.unframableCount == 2)
        new.send(.ping(token: 8))
        #expect(try new.receive() == .pong(token: 8))
        // The v1 node got none of it: its first frame is the answer to its ping.
        old.send(.ping(token: 9))
        #expect(try old.receive() == .pong(token: 9))
        #expect(f.link.droppedWithoutNodeCount == 2)
    }
}
