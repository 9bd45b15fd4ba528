"""Local protocol version 2: the manager inside a real python-socketio
AsyncServer with real python-socketio clients, against the in-process fake
busd speaking version 2. Every frame the connector sends is checked, and
every frame busd may send is carried out on real sockets."""

import asyncio
import json
import re
import time

import pytest
import socketio

from socketbus_connector import frames as f

from conftest import wait_until
from v2_support import ACK_BASE, answer, joined, v2_node

pytestmark = pytest.mark.timeout(60)


async def test_session_namespace_connect_and_typed_rooms(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    assert fake_busd2.hellos[0].version == 2

    @node.sio.on("connect", namespace="/chat")
    async def on_chat_connect(sid, environ, auth=None):
        await node.sio.enter_room(sid, "early", namespace="/chat")
        await node.sio.enter_room(sid, 5, namespace="/chat")

    client = await node.client(namespaces=["/", "/chat"])
    sid, chat_sid = client.sid("/"), client.sid("/chat")
    got = await fake_busd2.quiet(0.3)
    by_ns = {}
    for frame in got:
        by_ns.setdefault(frame.namespace, []).append(frame)
    assert [type(x) for x in by_ns["/"]] == [f.SocketConnect, f.RoomsJoin]
    assert by_ns["/"][1] == f.RoomsJoin("/", sid, [sid])  # its own id room included
    # NAMESPACE before the first frame naming /chat, then its socket.
    assert [type(x) for x in by_ns["/chat"][:3]] == [f.Namespace, f.SocketConnect, f.RoomsJoin]
    # Rooms of the connect handler, typed: with the first ROOMS_JOIN (5.13+:
    # python-socketio registers the socket after its connect handler) or
    # right after it (5.12).
    rooms = [r for x in by_ns["/chat"][2:] for r in x.rooms]
    assert all(x.socket_id == chat_sid and isinstance(x, f.RoomsJoin) for x in by_ns["/chat"][2:])
    assert sorted(map(str, rooms)) == sorted([chat_sid, "early", "5"])
    assert 5 in rooms and "5" not in rooms

    await node.sio.enter_room(sid, 123)
    assert await fake_busd2.next() == f.RoomsJoin("/", sid, [123])
    await node.sio.enter_room(sid, "123")
    assert await fake_busd2.next() == f.RoomsJoin("/", sid, ["123"])
    await node.sio.enter_room(sid, 123)  # already in: nothing
    await node.sio.leave_room(sid, 123)
    assert await fake_busd2.next() == f.RoomsLeave("/", sid, [123])
    await node.sio.enter_room(sid, ("odd", 1))  # neither str nor number: its str()
    assert await fake_busd2.next() == f.RoomsJoin("/", sid, ["('odd', 1)"])
    assert await fake_busd2.quiet() == []


async def test_broadcasts_are_rooms_broadcasts_with_typed_rooms(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    client = await joined(node, fake_busd2)
    sid = client.sid()
    await node.sio.emit("news", {"a": 1})
    assert await fake_busd2.next() == f.RoomsBroadcast("/", 0, [], [], b'2["news",{"a":1}]', [])
    await node.sio.emit("num", 1, to=[123, "123"], skip_sid=sid)
    assert await fake_busd2.next() == f.RoomsBroadcast("/", 0, [123, "123"], [sid], b'2["num",1]', [])
    await node.sio.emit("bin", b"\x00\x01", namespace="/other", to=7.5)
    assert await fake_busd2.next() == f.Namespace("/other")
    assert await fake_busd2.next() == f.RoomsBroadcast(
        "/other", 0, [7.5], [], b'51-/other,["bin",{"_placeholder":true,"num":0}]', [b"\x00\x01"])
    await node.sio.emit("mine", 1, to=sid)  # only this node's socket: stays here
    assert await client.next() == ("/", "news", [{"a": 1}])
    assert await client.next() == ("/", "mine", [1])
    assert await fake_busd2.quiet() == []


async def test_deliver_to_rooms_uses_the_nodes_own_rooms_and_types(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    text, number, plain = [await joined(node, fake_busd2) for _ in range(3)]
    await node.sio.enter_room(text.sid(), "123")
    await node.sio.enter_room(number.sid(), 123)
    await node.sio.enter_room(plain.sid(), "other")
    for _ in range(3):
        await fake_busd2.next(f.RoomsJoin)

    fake_busd2.send(f.DeliverToRooms(0, 0, "/", [123], [], b'2["n"]', []))
    assert await number.next() == ("/", "n", [])
    fake_busd2.send(f.DeliverToRooms(0, 0, "/", ["123"], [], b'2["s"]', []))
    assert await text.next() == ("/", "s", [])
    # Everyone but room "other", and everyone except the socket-id room of text.
    fake_busd2.send(f.DeliverToRooms(0, 0, "/", [], ["other", text.sid()], b'2["all"]', []))
    assert await number.next() == ("/", "all", [])
    for client in (text, plain):
        await client.nothing(0.2)
    await number.nothing(0.1)
    assert await fake_busd2.quiet(0.1) == []  # no DELIVERED without an ack id

    # With an ack id: DELIVERED names the sockets written to, before their ACKED.
    ack_id = ACK_BASE + 3
    fake_busd2.send(f.DeliverToRooms(ack_id, 0, "/", [123, "123"], [], f'2{ack_id}["q"]'.encode(), []))
    delivered = await fake_busd2.next(f.Delivered)
    assert (delivered.ack_id, delivered.namespace) == (ack_id, "/")
    assert sorted(delivered.socket_ids) == sorted([text.sid(), number.sid()])
    acked = {(await fake_busd2.next(f.Acked)).socket_id for _ in range(2)}
    assert acked == {text.sid(), number.sid()}
    # A room nobody here is in: DELIVERED with no socket.
    fake_busd2.send(f.DeliverToRooms(ack_id + 1, 0, "/", ["nobody"], [], f'2{ack_id + 1}["q"]'.encode(), []))
    assert await fake_busd2.next() == f.Delivered(ack_id + 1, "/", [])
    assert node.manager.stats.deliveries_to_rooms == 5


async def test_join_then_deliver_and_leave_then_deliver_never_race(make_node, fake_busd2):
    """Once enter_room/leave_room has returned, every DELIVER_TO_ROOMS
    handled after it sees it: 200 of each, 0 misses, 0 wrong deliveries."""
    node = await v2_node(make_node, fake_busd2)
    client = await joined(node, fake_busd2)
    sid = client.sid()
    for i in range(200):
        # join, then a broadcast to the room: delivered
        await node.sio.enter_room(sid, f"r{i}")
        fake_busd2.send(f.DeliverToRooms(0, 0, "/", [f"r{i}"], [], f'2["in",{i}]'.encode(), []))
        assert await client.next() == ("/", "in", [i])
        # join, then a broadcast to all except the room: not delivered
        await node.sio.enter_room(sid, f"x{i}")
        fake_busd2.send(f.DeliverToRooms(0, 0, "/", [], [f"x{i}"], f'2["excepted",{i}]'.encode(), []))
        fake_busd2.send(f.DeliverToRooms(0, 0, "/", [sid], [], f'2["mark",{i}]'.encode(), []))
        assert await client.next() == ("/", "mark", [i])
        # leave, then a broadcast to the room: not delivered
        await node.sio.leave_room(sid, f"r{i}")
        fake_busd2.send(f.DeliverToRooms(0, 0, "/", [f"r{i}"], [], f'2["left",{i}]'.encode(), []))
        fake_busd2.send(f.DeliverToRooms(0, 0, "/", [sid], [], f'2["mark2",{i}]'.encode(), []))
        assert await client.next() == ("/", "mark2", [i])


async def test_apply_join_leave_disconnect_by_own_rooms(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    a, b = await joined(node, fake_busd2), await joined(node, fake_busd2)
    await node.sio.enter_room(a.sid(), 9)
    await fake_busd2.next(f.RoomsJoin)

    fake_busd2.send(f.Apply(f.ApplyOp.JOIN, "/", [9], [], ["vip", 2], False))
    assert await fake_busd2.next() == f.RoomsJoin("/", a.sid(), ["vip", 2])  # the registry learns it
    assert set(node.manager.get_rooms(a.sid(), "/")) == {a.sid(), 9, "vip", 2}
    assert set(node.manager.get_rooms(b.sid(), "/")) == {b.sid()}
    fake_busd2.send(f.Apply(f.ApplyOp.LEAVE, "/", [], [a.sid()], ["vip", "never"], False))
    fake_busd2.send(f.Apply(f.ApplyOp.JOIN, "/", [], [], ["all"], False))
    got = {(await fake_busd2.next(f.RoomsJoin)).socket_id for _ in range(2)}
    assert got == {a.sid(), b.sid()}
    assert await fake_busd2.quiet() == []  # b was in no room to leave; a was excepted

    fake_busd2.send(f.Apply(f.ApplyOp.DISCONNECT, "/", ["all"], [a.sid()], [], False))
    assert (await fake_busd2.next(f.SocketDisconnect)).socket_id == b.sid()
    await wait_until(lambda: not b.sio.connected, what="b disconnected")
    fake_busd2.send(f.Apply(f.ApplyOp.DISCONNECT, "/", [9], [], [], True))
    assert (await fake_busd2.next(f.SocketDisconnect)).socket_id == a.sid()
    await wait_until(lambda: not a.sio.connected, what="a's connection closed")
    assert node.manager.stats.applies == 5


async def test_question_fetch_answers_with_handshake_rooms_and_data(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    before = int(time.time() * 1000)
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(node.url + "?token=abc&x=1&x=2", headers={"X-Team": "blue"}, transports=["websocket"])
    try:
        sid = client.get_sid("/")
        await fake_busd2.next(f.RoomsJoin, skip=(f.SocketConnect,))
        await node.sio.enter_room(sid, 42)
        await fake_busd2.next(f.RoomsJoin)
        fake_busd2.send(f.Question(7, f.QuestionKind.FETCH, "/", b'{"rooms":[42],"except":[]}'))
        status, sockets = await answer(fake_busd2, 7)
        assert status == 0 and len(sockets) == 1
        described = sockets[0]
        assert described["id"] == sid and described["data"] == {}
        assert sorted(map(str, described["rooms"])) == sorted([sid, "42"]) and 42 in described["rooms"]
        hs = described["handshake"]
        assert hs["headers"]["x-team"] == "blue"
        assert hs["query"]["token"] == "abc" and hs["query"]["x"] == ["1", "2"]
        assert hs["query"]["EIO"] == "4" and hs["address"] == "127.0.0.1"
        assert hs["url"].startswith("/socket.io/?") and hs["secure"] is False and hs["auth"] == {}
        assert before - 1000 <= hs["issued"] <= int(time.time() * 1000)
        assert re.fullmatch(r"\w{3} \w{3} \d\d \d{4} \d\d:\d\d:\d\d GMT[+-]\d{4} \(.+\)", hs["time"]), hs["time"]
        if time.strftime("%Z") == "UTC":  # as Node's Date.prototype.toString() writes it
            assert hs["time"].endswith("GMT+0000 (Coordinated Universal Time)")
        # Room "42" (text) is not room 42; an except leaves it out too.
        fake_busd2.send(f.Question(8, f.QuestionKind.FETCH, "/", b'{"rooms":["42"],"except":[]}'))
        assert await answer(fake_busd2, 8) == (0, [])
        fake_busd2.send(f.Question(9, f.QuestionKind.FETCH, "/", json.dumps({"rooms": [], "except": [sid]}).encode()))
        assert await answer(fake_busd2, 9) == (0, [])
        fake_busd2.send(f.Question(10, f.QuestionKind.FETCH, "/", b'{"rooms":[{"no":1}]}'))
        assert await answer(fake_busd2, 10) == (1, None)
    finally:
        await client.disconnect()


async def test_question_server_side_emit_with_ack(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    fake_busd2.send(f.Question(1, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'["hello",1]'))
    assert await answer(fake_busd2, 1) == (1, None)  # no handler: status 1

    seen = []

    @node.manager.on_server_side_emit
    async def handler(namespace, event, args):
        seen.append((namespace, event, args))
        if event == "boom":
            raise RuntimeError("handler failed")
        if event == "none":
            return None
        if event == "several":
            return ("first", "second")
        await asyncio.sleep(0.05)
        return {"got": args}

    fake_busd2.send(f.Question(2, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'["hello",1,"two"]'))
    assert await answer(fake_busd2, 2) == (0, [{"got": [1, "two"]}])
    fake_busd2.send(f.Question(3, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'["none"]'))
    assert await answer(fake_busd2, 3) == (0, [])
    fake_busd2.send(f.Question(4, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'["several"]'))
    assert await answer(fake_busd2, 4) == (0, ["first"])
    fake_busd2.send(f.Question(5, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'["boom"]'))
    assert await answer(fake_busd2, 5) == (1, None)
    fake_busd2.send(f.Question(6, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'{"not":"a list"}'))
    assert await answer(fake_busd2, 6) == (1, None)
    assert seen[0] == ("/", "hello", [1, "two"])
    # The same handler gets server-side emits without ack (v1 frame 0x25).
    fake_busd2.send(f.ServerSideEmit("/", b'["plain",3]'))
    await wait_until(lambda: ("/", "plain", [3]) in seen, what="plain server-side emit")
    assert await fake_busd2.quiet() == []
    # Assigning the handler as an attribute (the version 1 way) works too.
    node.manager.on_server_side_emit = lambda namespace, event, args: "assigned"
    fake_busd2.send(f.Question(7, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'["x"]'))
    assert await answer(fake_busd2, 7) == (0, ["assigned"])


async def test_question_custom_and_unknown_kinds(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    fake_busd2.send(f.Question(1, f.QuestionKind.CUSTOM, "/", b'{"q":1}'))
    assert await answer(fake_busd2, 1) == (1, None)
    node.manager.on_custom_request(lambda namespace, data: {"echo": data, "ns": namespace})
    fake_busd2.send(f.Question(2, f.QuestionKind.CUSTOM, "/", b'{"q":1}'))
    assert await answer(fake_busd2, 2) == (0, {"echo": {"q": 1}, "ns": "/"})
    node.manager.on_custom_request(lambda namespace, data: None)
    fake_busd2.send(f.Question(3, f.QuestionKind.CUSTOM, "/", b""))
    frame = await fake_busd2.next(f.Answer)
    assert (frame.request, frame.status, frame.body) == (3, 0, b"")  # none: an empty blob
    fake_busd2.send(f.Question(4, 77, "/", b""))
    assert await answer(fake_busd2, 4) == (1, None)
    assert node.manager.stats.questions == 4 and node.manager.stats.questions_not_answered == 2


async def test_enter_room_of_a_new_room_waits_for_busds_room_channel(make_node, fake_busd2):
    """CLUSTER_REQUEST kind 9: the async manager's enter_room of a room no
    socket of this node was in returns once busd confirms that Redis has
    its channel (sharded adapter, dynamic modes); a room the node has, and
    every join once busd said it never waits, go without asking."""
    node = await v2_node(make_node, fake_busd2)
    fake_busd2.room_wait_mode = "manual"
    client = await node.client()
    sid = client.sid("/")
    await fake_busd2.quiet(0.3)
    done = asyncio.ensure_future(node.sio.enter_room(sid, "fresh"))
    assert await fake_busd2.next() == f.RoomsJoin("/", sid, ["fresh"])
    wait = await fake_busd2.next()
    assert isinstance(wait, f.ClusterRequest) and wait.kind == 9 and json.loads(wait.body) == {"rooms": ["fresh"]}
    await asyncio.sleep(0.05)
    assert not done.done(), "enter_room returned before busd's confirmation"
    fake_busd2.send(f.ClusterReply(wait.request, 0, b'{"waits":true}'))
    await asyncio.wait_for(done, 2)

    # A failure returns too (counted): the room is joined on this node anyway.
    done = asyncio.ensure_future(node.sio.enter_room(sid, "broken"))
    assert isinstance(await fake_busd2.next(), f.RoomsJoin)
    wait = await fake_busd2.next()
    fake_busd2.send(f.ClusterReply(wait.request, 2, b'{"error":"not confirmed"}'))
    await asyncio.wait_for(done, 2)
    assert node.manager.stats.room_channel_waits_failed == 1

    # busd says it never waits: no more kind 9 this session.
    done = asyncio.ensure_future(node.sio.enter_room(sid, "plain"))
    assert isinstance(await fake_busd2.next(), f.RoomsJoin)
    wait = await fake_busd2.next()
    fake_busd2.send(f.ClusterReply(wait.request, 0, b'{"waits":false}'))
    await asyncio.wait_for(done, 2)
    await asyncio.wait_for(node.sio.enter_room(sid, "other"), 2)
    assert await fake_busd2.next() == f.RoomsJoin("/", sid, ["other"])
    assert await fake_busd2.quiet() == []
    assert node.manager.stats.room_channel_waits == 3
