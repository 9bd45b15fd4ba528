"""Local protocol version 2: the cluster-wide calls of the manager (and what
busd may answer or send meanwhile), inside a real python-socketio AsyncServer
with real clients, against the in-process fake busd speaking version 2."""

import asyncio
import json
import struct
import time

import pytest
import socketio

from socketbus_connector import ClusterError, ClusterTimeout
from socketbus_connector import frames as f

from conftest import FakeBusd, wait_until
from v2_support import REGISTRY, answer, joined, v2_node

pytestmark = pytest.mark.timeout(60)


async def reply_to(fake, kind, status, body, namespace="/"):
    request = await fake.next(f.ClusterRequest, skip=(f.Namespace,))
    assert (request.kind, request.namespace) == (kind, namespace)
    fake.send(f.ClusterReply(request.request, status, json.dumps(body).encode() if body is not None else b""))
    return request


async def test_cluster_calls_server_count_fetch_rooms_and_emit_with_ack(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    mgr = node.manager
    client = await joined(node, fake_busd2)
    sid = client.sid()

    task = asyncio.create_task(mgr.server_count(timeout=2))
    request = await reply_to(fake_busd2, f.ClusterKind.SERVER_COUNT, 0, {"count": 3})
    assert (request.timeout_ms, request.body) == (2000, b"")
    assert await task == 3

    remote = {"id": "remoteSid", "handshake": {"headers": {}}, "rooms": ["remoteSid", 1], "data": {"a": 1}}
    task = asyncio.create_task(mgr.fetch_sockets(to=[1, "r"], skip=["x"]))
    request = await reply_to(fake_busd2, f.ClusterKind.FETCH_SOCKETS, 0, {"sockets": [remote]})
    assert json.loads(request.body) == {"rooms": [1, "r"], "except": ["x"]}
    assert await task == [remote]  # this node has no socket in 1 or "r"
    await node.sio.enter_room(sid, 1)
    assert await fake_busd2.next() == f.RoomsJoin("/", sid, [1])
    task = asyncio.create_task(mgr.fetch_sockets(to=1))
    await reply_to(fake_busd2, f.ClusterKind.FETCH_SOCKETS, 0, {"sockets": [remote]}, )
    got = await task
    assert [s["id"] for s in got] == [sid, "remoteSid"]  # its own first, as socket.io

    task = asyncio.create_task(mgr.all_rooms())
    await reply_to(fake_busd2, f.ClusterKind.ALL_ROOMS, 0, {"rooms": ["remoteSid", 1, "far"]})
    assert await task == {sid, 1, "remoteSid", "far"}

    task = asyncio.create_task(mgr.cluster_participants("/", 1))
    await reply_to(fake_busd2, f.ClusterKind.FETCH_SOCKETS, 0, {"sockets": [remote]})
    assert await task == [sid, "remoteSid"]
    task = asyncio.create_task(mgr.cluster_rooms("remoteSid"))
    await reply_to(fake_busd2, f.ClusterKind.FETCH_SOCKETS, 0, {"sockets": [remote]})
    assert await task == ["remoteSid", 1]

    task = asyncio.create_task(mgr.server_side_emit_with_ack("ping", 1, {"b": 2}, namespace="/admin", timeout=1))
    assert await fake_busd2.next() == f.Namespace("/admin")
    request = await reply_to(fake_busd2, f.ClusterKind.SERVER_SIDE_EMIT_WITH_ACK, 0,
                             {"responses": ["pong", 2], "expected": 2}, namespace="/admin")
    assert json.loads(request.body) == ["ping", 1, {"b": 2}]
    assert await task == ["pong", 2]


async def test_cluster_calls_time_out_and_fail_like_the_stock_adapter(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    mgr = node.manager
    remote = {"id": "r1", "handshake": {}, "rooms": ["r1"], "data": None}
    task = asyncio.create_task(mgr.fetch_sockets())
    await reply_to(fake_busd2, f.ClusterKind.FETCH_SOCKETS, 1, {"sockets": [remote]})
    with pytest.raises(ClusterTimeout, match="^timeout reached while waiting for fetchSockets response$") as info:
        await task
    assert info.value.partial == [remote] and isinstance(info.value, TimeoutError)

    task = asyncio.create_task(mgr.all_rooms())
    await reply_to(fake_busd2, f.ClusterKind.ALL_ROOMS, 1, {"rooms": ["x"]})
    with pytest.raises(ClusterTimeout, match="allRooms response") as info:
        await task
    assert info.value.partial == {"x"}

    task = asyncio.create_task(mgr.server_side_emit_with_ack("e"))
    await reply_to(fake_busd2, f.ClusterKind.SERVER_SIDE_EMIT_WITH_ACK, 1, {"responses": ["one"], "expected": 3})
    with pytest.raises(ClusterTimeout, match="^timeout reached: only 1 responses received out of 3$") as info:
        await task
    assert info.value.partial == ["one"]

    task = asyncio.create_task(mgr.server_count())
    await reply_to(fake_busd2, f.ClusterKind.SERVER_COUNT, 2, {"error": "Redis unreachable"})
    with pytest.raises(ClusterError, match="Redis unreachable"):
        await task

    # busd never replies: the call ends a moment after its own time-out.
    started = time.monotonic()
    with pytest.raises(ClusterTimeout):
        await mgr.fetch_sockets(timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 3
    request = await fake_busd2.next(f.ClusterRequest)
    assert request.timeout_ms == 200
    mgr.requests_timeout = 0.3  # the default of every call
    with pytest.raises(ClusterTimeout):
        await mgr.all_rooms()
    assert (await fake_busd2.next(f.ClusterRequest)).timeout_ms == 300
    assert mgr._cluster_requests == {}

    # The link drops while a request waits: it fails at once.
    task = asyncio.create_task(mgr.server_count(timeout=10))
    await fake_busd2.next(f.ClusterRequest)
    fake_busd2.drop()
    with pytest.raises(ClusterError, match="lost"):
        await asyncio.wait_for(task, 3)


async def test_sockets_join_leave_disconnect_and_remote_sids(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    mgr = node.manager
    client = await joined(node, fake_busd2)
    sid = client.sid()

    await mgr.sockets_join(["vip", 3], to="lobby", skip=[sid])
    request = await fake_busd2.next(f.ClusterRequest)
    assert request.kind == f.ClusterKind.ADD_SOCKETS
    assert json.loads(request.body) == {"opts": {"rooms": ["lobby"], "except": [sid]}, "rooms": ["vip", 3]}
    # As with the stock adapter it is applied when it comes back (APPLY).
    assert "vip" not in mgr.get_rooms(sid, "/")
    await mgr.sockets_leave("vip")
    request = await fake_busd2.next(f.ClusterRequest)
    assert (request.kind, json.loads(request.body)) == (
        f.ClusterKind.DEL_SOCKETS, {"opts": {"rooms": [], "except": []}, "rooms": ["vip"]})
    await mgr.disconnect_sockets(to=5, close=True)
    request = await fake_busd2.next(f.ClusterRequest)
    assert (request.kind, json.loads(request.body)) == (
        f.ClusterKind.DISCONNECT_SOCKETS, {"opts": {"rooms": [5], "except": []}, "close": True})
    await mgr.server_side_emit("hi", 1, namespace="/")
    request = await fake_busd2.next(f.ClusterRequest)
    assert (request.kind, json.loads(request.body)) == (f.ClusterKind.SERVER_SIDE_EMIT, ["hi", 1])

    # python-socketio's own API on a sid of another server.
    await node.sio.enter_room("remoteSid", "r")
    request = await fake_busd2.next(f.ClusterRequest)
    assert (request.kind, json.loads(request.body)) == (
        f.ClusterKind.ADD_SOCKETS, {"opts": {"rooms": ["remoteSid"], "except": []}, "rooms": ["r"]})
    await node.sio.leave_room("remoteSid", "r")
    request = await fake_busd2.next(f.ClusterRequest)
    assert request.kind == f.ClusterKind.DEL_SOCKETS
    await node.sio.disconnect("remoteSid")
    request = await fake_busd2.next(f.ClusterRequest)
    assert (request.kind, json.loads(request.body)) == (
        f.ClusterKind.DISCONNECT_SOCKETS, {"opts": {"rooms": ["remoteSid"], "except": []}, "close": False})
    # close_room empties the room here at once and asks every server.
    await node.sio.enter_room(sid, "temp")
    await fake_busd2.next(f.RoomsJoin)
    await node.sio.close_room("temp")
    assert await fake_busd2.next() == f.RoomsLeave("/", sid, ["temp"])
    request = await fake_busd2.next(f.ClusterRequest)
    assert (request.kind, json.loads(request.body)) == (
        f.ClusterKind.DEL_SOCKETS, {"opts": {"rooms": ["temp"], "except": []}, "rooms": ["temp"]})
    assert "temp" not in mgr.get_rooms(sid, "/")
    # A local sid stays local.
    await node.sio.enter_room(sid, "here")
    assert await fake_busd2.next() == f.RoomsJoin("/", sid, ["here"])
    assert await fake_busd2.quiet() == []


async def test_emit_with_callback_reaches_other_servers_clients(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2, callback_timeout=3)
    client = await joined(node, fake_busd2, ack_value="local-ack")
    sid = client.sid()

    # call() to a socket of another server: its ack comes back through busd.
    task = asyncio.create_task(node.sio.call("q", {"n": 1}, to="remoteSid", timeout=5))
    frame = await fake_busd2.next(f.BroadcastWithAck)
    assert (frame.namespace, frame.rooms, frame.except_rooms, frame.timeout_ms) == ("/", ["remoteSid"], [], 3000)
    assert frame.packet == b'2["q",{"n":1}]' and frame.request != 0
    fake_busd2.send(f.AckCount(frame.request, 1))
    fake_busd2.send(f.AckArgument(frame.request, b'{"pong":true}'))
    assert await task == {"pong": True}

    # A room: the callback runs once per client that acks, here or elsewhere.
    calls = []
    await node.sio.enter_room(sid, 8)
    await fake_busd2.next(f.RoomsJoin)
    await node.sio.emit("ask", 2, to=8, skip_sid=["nobody"], callback=lambda *args: calls.append(args))
    frame = await fake_busd2.next(f.BroadcastWithAck)
    assert (frame.rooms, frame.except_rooms, frame.packet) == ([8], ["nobody"], b'2["ask",2]')
    fake_busd2.send(f.AckCount(frame.request, 2))
    fake_busd2.send(f.AckArgument(frame.request, b'"far"'))
    fake_busd2.send(f.AckArgument(frame.request, b""))  # acked with no argument
    fake_busd2.send(f.AckArgument(frame.request + 1000, b'"unknown request"'))
    # A binary answer crosses busd in Node's JSON form of a Buffer: bytes again.
    fake_busd2.send(f.AckArgument(frame.request, b'{"type":"Buffer","data":[0,1,255]}'))
    fake_busd2.send(f.AckArgument(frame.request, b'{"nested":[{"type":"Buffer","data":[7]}],'
                                                 b'"not":{"type":"Buffer","data":[256]},'
                                                 b'"extra":{"type":"Buffer","data":[1],"x":1}}'))
    await wait_until(lambda: len(calls) == 5, what="five acks")
    assert sorted(calls, key=repr) == sorted([
        ("local-ack",), ("far",), (), (b"\x00\x01\xff",),
        ({"nested": [b"\x07"], "not": {"type": "Buffer", "data": [256]},
          "extra": {"type": "Buffer", "data": [1], "x": 1}},)], key=repr)
    assert node.manager.stats.ack_clients_counted == 3
    # After callback_timeout the request is forgotten.
    await wait_until(lambda: not node.manager._ack_requests, timeout=5, what="ack request expiry")
    # Only this node's sockets: no BROADCAST_WITH_ACK; ignore_queue neither.
    assert await node.sio.call("local", to=sid, timeout=5) == "local-ack"
    await node.sio.emit("x", 1, callback=lambda *a: None, ignore_queue=True)
    assert await fake_busd2.quiet() == []


async def test_v1_busd_cluster_calls_fail_clearly_and_acks_stay_local(make_node, fake_busd):
    node = await make_node(fake_busd.path)
    assert await node.manager.start(timeout=5)
    assert node.manager.protocol_version == 1
    with pytest.raises(ClusterError, match="protocol 1"):
        await node.manager.server_count()
    with pytest.raises(ClusterError, match="protocol 1"):
        await node.manager.fetch_sockets()
    client = await node.client()
    await fake_busd.next(f.SocketConnect)
    await node.sio.emit("q", 1, to="remoteSid", callback=lambda *a: None)
    await node.manager.sockets_join("room", to=client.sid())  # acts on this node's sockets only
    assert "room" in node.manager.get_rooms(client.sid(), "/")
    assert await fake_busd.next() == f.SocketJoin("/", client.sid(), ["room"])
    assert await fake_busd.quiet() == []
    assert node.manager.stats.ack_broadcasts_local_only == 1
    # A v2 command on a v1 session is an unexpected frame.
    fake_busd.send(f.Apply(1, "/", [], [], ["x"], False))
    err = await fake_busd.next(f.Error, skip=REGISTRY + (f.SocketJoin,))
    assert err.code == 3


async def test_reconnect_resync_and_a_queued_broadcast_for_a_v1_busd(make_node, workdir):
    path = str(workdir / "switch.sock")
    fake = await FakeBusd(path, version=2).start()
    try:
        node = await make_node(path, min_delay=0.02, max_delay=0.1)
        assert await node.manager.start(timeout=5)
        assert await fake.next() == f.Namespace("/")
        client = await node.client(namespaces=["/", "/chat"])
        await node.sio.enter_room(client.sid(), 4)
        got = await fake.quiet(0.3)
        assert f.RoomsJoin("/", client.sid(), [4]) in got

        await fake.stop()  # busd goes away
        await wait_until(lambda: not node.manager.link.connected, what="link down")
        await node.sio.emit("while-away", 1, to=4)
        # A v2 busd comes back: NAMESPACEs, then the sockets with typed rooms, then the queue.
        await fake.start()
        await wait_until(lambda: fake.connections == 2, what="reconnect")
        resync = [await fake.next() for _ in range(7)]
        assert resync[:2] == [f.Namespace("/"), f.Namespace("/chat")]
        joins = {(x.namespace, frozenset(x.rooms)) for x in resync if isinstance(x, f.RoomsJoin)}
        assert joins == {("/", frozenset([client.sid(), 4])), ("/chat", frozenset([client.sid("/chat")]))}
        assert resync[-1] == f.RoomsBroadcast("/", 0, [4], [], b'2["while-away",1]', [])

        await fake.stop()
        await wait_until(lambda: not node.manager.link.connected, what="link down again")
        await node.sio.emit("for-v1", 1, to=4)
        fake.version = 1  # this time a v1 busd answers
        await fake.start()
        await wait_until(lambda: fake.connections == 3, what="reconnect to v1")
        frames_v1 = await fake.quiet(0.5)
        assert not any(isinstance(x, tuple(f.V2_FRAMES)) for x in frames_v1)
        assert f.Broadcast("/", 0, ["4"], [], b'2["for-v1",1]', []) in frames_v1
        assert f.SocketJoin("/", client.sid(), ["4"]) in frames_v1
    finally:
        await fake.stop()


async def test_a_busd_that_refuses_hello_2_gets_hello_1_at_once(make_node, workdir):
    fake = await FakeBusd(str(workdir / "old.sock"), version=1, strict=True).start()
    try:
        node = await make_node(fake.path, min_delay=5, max_delay=5)  # no back-off wait involved
        started = time.monotonic()
        assert await node.manager.start(timeout=3)
        assert time.monotonic() - started < 2
        assert [h.version for h in fake.hellos] == [2, 1]
        assert node.manager.protocol_version == 1
        client = await node.client()
        assert (await fake.next(f.SocketConnect)).socket_id == client.sid()
        await node.sio.emit("x", 1, to=7)
        assert await fake.next() == f.Broadcast("/", 0, ["7"], [], b'2["x",1]', [])
    finally:
        await fake.stop()


async def test_odd_content_from_busd_is_ignored_and_the_session_stays(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    client = await joined(node, fake_busd2)
    fake_busd2.send(f.ClusterReply(4242, 0, b"{}"))  # nobody asked
    fake_busd2.send(f.AckCount(4242, 3))
    fake_busd2.send(f.AckArgument(4242, b"not json"))
    fake_busd2.send(f.DeliverToRooms(0, 0, "/nowhere", ["x"], [], b'2["x"]', []))
    fake_busd2.send(f.DeliverToRooms(0, 0, "/", [], [], b"\xff\xfe", []))  # not UTF-8: dropped
    fake_busd2.send(f.Question(1, f.QuestionKind.FETCH, "/", b"not json"))
    assert await answer(fake_busd2, 1) == (1, None)
    fake_busd2.send(f.Ping(5))
    assert await fake_busd2.next() == f.Pong(5)
    assert client.events.empty() and "x" not in node.manager.get_rooms(client.sid(), "/")
    # A reply whose body is not JSON fails that call only.
    task = asyncio.create_task(node.manager.server_count())
    request = await fake_busd2.next(f.ClusterRequest)
    fake_busd2.send(f.ClusterReply(request.request, 0, b"{oops"))
    with pytest.raises(ClusterError, match="not JSON"):
        await task
    assert fake_busd2.connections == 1 and node.manager.link.stats.sessions == 1


async def test_cluster_calls_while_busd_is_away_wait_for_it_within_their_time_out(make_node, workdir):
    path = str(workdir / "later2.sock")
    node = await make_node(path, min_delay=0.05, max_delay=0.1)
    mgr = node.manager
    client = await node.client()
    sid = client.sid()
    # No busd within the time-out: the stock errors (a count cannot be made up).
    started = time.monotonic()
    with pytest.raises(ClusterError, match="not connected"):
        await mgr.server_count(timeout=0.3)
    with pytest.raises(ClusterTimeout, match="fetchSockets response") as info:
        await mgr.fetch_sockets(timeout=0.3)
    assert [s["id"] for s in info.value.partial] == [sid]  # this server's own part
    assert time.monotonic() - started < 3
    # socketsJoin and serverSideEmit wait in the queue, like the stock adapter's
    # publish in its Redis client; nothing acts on this server before busd is back.
    await mgr.sockets_join(["later"], to=sid)
    await mgr.server_side_emit("queued", 1)
    assert "later" not in mgr.get_rooms(sid, "/")
    # busd comes back while a fetch waits for it: the fetch goes out with the time left.
    task = asyncio.create_task(mgr.fetch_sockets(timeout=3))
    await asyncio.sleep(0.3)
    fake = await FakeBusd(path, version=2).start()
    try:
        got = [await fake.next(skip=REGISTRY) for _ in range(3)]
        assert [x.kind for x in got] == [f.ClusterKind.ADD_SOCKETS, f.ClusterKind.SERVER_SIDE_EMIT,
                                         f.ClusterKind.FETCH_SOCKETS]
        assert json.loads(got[0].body) == {"opts": {"rooms": [sid], "except": []}, "rooms": ["later"]}
        assert 1000 < got[2].timeout_ms < 3000
        fake.send(f.ClusterReply(got[2].request, 0, b'{"sockets":[]}'))
        assert [s["id"] for s in await task] == [sid]
        # The join comes back as an APPLY, as through Redis.
        fake.send(f.Apply(f.ApplyOp.JOIN, "/", [sid], [], ["later"], False))
        await wait_until(lambda: "later" in mgr.get_rooms(sid, "/"), what="the APPLY")
    finally:
        await fake.stop()



async def test_malformed_v2_frames_from_busd_end_the_session(make_node, fake_busd2):
    node = await v2_node(make_node, fake_busd2)
    node.manager.link.min_delay = node.manager.link.max_delay = 0.05
    # APPLY op 9: malformed (ERROR 1), then a new session.
    apply_body = b"\x09\x00\x01/" + b"\x00\x00\x00\x00" * 3 + b"\x00"
    fake_busd2.send_raw(struct.pack(">IB", len(apply_body) + 1, 0x27) + apply_body)
    err = await fake_busd2.next(f.Error)
    assert err.code == 1 and "APPLY.op 9" in err.message
    await wait_until(lambda: fake_busd2.connections == 2, what="reconnect")
    # A NaN numeric room: malformed too.
    await fake_busd2.connected.wait()
    assert await fake_busd2.next() == f.Namespace("/")
    body = b"\x00" * 8 + b"\x00\x00\x01/" + b"\x00\x00\x00\x01\x01" + b"\x7f\xf8" + b"\x00" * 6
    body += b"\x00\x00\x00\x00" + b"\x00\x00\x00\x02[]" + b"\x00\x00\x00\x00"
    fake_busd2.send_raw(struct.pack(">IB", len(body) + 1, 0x26) + body)
    err = await fake_busd2.next(f.Error)
    assert err.code == 1 and "non-finite" in err.message


async def test_a_fetch_answer_over_the_frame_limit_is_answered_status_1(make_node, fake_busd2, monkeypatch):
    node = await v2_node(make_node, fake_busd2)
    client = await joined(node, fake_busd2)
    monkeypatch.setattr(f, "MAX_LENGTH", 300)  # a 300-byte frame limit: one socket is over it
    fake_busd2.send(f.Question(3, f.QuestionKind.FETCH, "/", b'{"rooms":[],"except":[]}'))
    assert await answer(fake_busd2, 3) == (1, None)
    monkeypatch.undo()
    fake_busd2.send(f.Question(4, f.QuestionKind.FETCH, "/", b'{"rooms":[],"except":[]}'))
    status, sockets = await answer(fake_busd2, 4)
    assert status == 0 and [s["id"] for s in sockets] == [client.sid()]
    assert node.manager._handshakes  # cached
    await client.sio.disconnect()
    await fake_busd2.next(f.SocketDisconnect)
    assert node.manager._handshakes == {}
