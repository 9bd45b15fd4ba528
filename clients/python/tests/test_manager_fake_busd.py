"""The manager inside a real python-socketio AsyncServer with real clients,
against an in-process fake busd of protocol version 1 (the connector asks
for 2 and falls back): every frame it sends and how it carries out every
frame busd sends. Version 2: test_manager_v2.py."""

import asyncio
import json
import os
import time

import pytest

from socketbus_connector import frames as f

from conftest import wait_until

pytestmark = pytest.mark.timeout(30)

ACK_BASE = 1 << 52


async def connected_node(make_node, fake_busd, **options):
    node = await make_node(fake_busd.path, **options)
    assert await node.manager.start(timeout=5)
    return node


async def test_hello_then_connect_join_leave_disconnect(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    hello = fake_busd.hellos[0]
    assert (hello.version, hello.node, hello.pid) == (2, "pytest-node", os.getpid())
    assert (node.manager.node_id, node.manager.uid) == ("fake-node", "fAkE01")
    assert node.manager.protocol_version == 1

    @node.sio.on("connect", namespace="/chat")
    async def on_chat_connect(sid, environ, auth=None):
        # Rooms entered before the connection is accepted go right after SOCKET_CONNECT.
        await node.sio.enter_room(sid, "early", namespace="/chat")

    before = int(time.time() * 1000)
    client = await node.client(namespaces=["/", "/chat"])
    sid, chat_sid = client.sid("/"), client.sid("/chat")
    seen = {}
    for _ in range(3):
        frame = await fake_busd.next()
        seen.setdefault(frame.namespace, []).append(frame)
    connect = seen["/"][0]
    assert isinstance(connect, f.SocketConnect) and connect.socket_id == sid
    assert before - 1000 <= connect.connected_at <= int(time.time() * 1000) + 1000
    assert [type(x) for x in seen["/chat"]] == [f.SocketConnect, f.SocketJoin]
    assert seen["/chat"][1] == f.SocketJoin("/chat", chat_sid, ["early"])

    await node.sio.enter_room(sid, "roomA")
    assert await fake_busd.next() == f.SocketJoin("/", sid, ["roomA"])
    await node.sio.enter_room(sid, "roomA")  # already in: nothing to say
    await node.sio.enter_room(sid, 7)  # non-string room names travel as text
    assert await fake_busd.next() == f.SocketJoin("/", sid, ["7"])
    await node.sio.leave_room(sid, "roomA")
    assert await fake_busd.next() == f.SocketLeave("/", sid, ["roomA"])
    await node.sio.leave_room(sid, "roomA")  # not in it any more
    await node.sio.close_room(7)
    assert await fake_busd.next() == f.SocketLeave("/", sid, ["7"])
    assert await fake_busd.quiet() == []

    await client.sio.disconnect()
    got = {(await fake_busd.next(f.SocketDisconnect)).socket_id for _ in range(2)}
    assert got == {sid, chat_sid}


async def test_refused_connection_is_never_reported(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)

    @node.sio.on("connect", namespace="/private")
    async def refuse(sid, environ, auth=None):
        return False

    client = await node.client(namespaces=["/"])
    await fake_busd.next(f.SocketConnect)
    with pytest.raises(Exception):
        await client.sio.connect(node.url, namespaces=["/private"], transports=["websocket"], wait_timeout=2)
    assert await fake_busd.quiet() == []


async def test_ping_gets_pong(make_node, fake_busd):
    await connected_node(make_node, fake_busd)
    fake_busd.send(f.Ping(2**64 - 2))
    assert await fake_busd.next() == f.Pong(2**64 - 2)


async def test_deliver_writes_the_packet_as_is_and_reports_the_ack(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    client = await node.client(ack_value={"fine": True})
    sid = client.sid()
    await fake_busd.next(f.SocketConnect)

    ack_id = ACK_BASE + 1
    fake_busd.send(f.Deliver(ack_id, 0, "/", [sid], f'2{ack_id}["news",1]'.encode(), []))
    assert await client.next() == ("/", "news", [1])
    acked = await fake_busd.next(f.Acked)
    assert (acked.ack_id, acked.socket_id, acked.status) == (ack_id, sid, 1)
    assert json.loads(acked.arguments) == [{"fine": True}]
    assert ack_id not in node.manager.callbacks.get(sid, {})  # used once

    # Binary attachment, no ack: the placeholder is filled by the client.
    packet = b'51-["bin",{"_placeholder":true,"num":0}]'
    fake_busd.send(f.Deliver(0, 2, "/", [sid, "gone-socket"], packet, [bytes([0, 1, 2, 0xFE, 0xFF])]))
    assert await client.next() == ("/", "bin", [b"\x00\x01\x02\xfe\xff"])
    assert node.manager.stats.missing_targets == 1
    assert await fake_busd.quiet() == [], "an event without an ack id is not acked to busd"


@pytest.mark.parametrize("ack_value, expected", [
    (b"\x01\xff", [{"type": "Buffer", "data": [1, 255]}]),  # as Node's JSON.stringify writes a Buffer
    (float("nan"), []),  # not JSON: confirmed without arguments rather than break the link
    ((1, "two", None), [1, "two", None]),  # a tuple acks with several arguments
])
async def test_ack_arguments_become_a_json_array(make_node, fake_busd, ack_value, expected):
    node = await connected_node(make_node, fake_busd)
    client = await node.client(ack_value=ack_value)
    await fake_busd.next(f.SocketConnect)
    ack_id = ACK_BASE + 7
    fake_busd.send(f.Deliver(ack_id, 0, "/", [client.sid()], f'2{ack_id}["q"]'.encode(), []))
    acked = await fake_busd.next(f.Acked)
    assert json.loads(acked.arguments) == expected


async def test_ack_id_is_registered_for_every_target_before_writing(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    a, b = await node.client(ack_value=None), await node.client(ack_value="b")
    for _ in range(2):
        await fake_busd.next(f.SocketConnect)
    ack_id = ACK_BASE + 99
    registered = {}
    real_plan = node.manager._plan_delivery

    def spy(frame):
        plan = real_plan(frame)
        registered.update({sid: ack_id in node.manager.callbacks.get(sid, {}) for sid in frame.socket_ids})
        return plan

    node.manager._plan_delivery = spy
    fake_busd.send(f.Deliver(ack_id, 0, "/", [a.sid(), b.sid()], f'2{ack_id}["q"]'.encode(), []))
    await wait_until(lambda: registered, what="the DELIVER")
    assert registered == {a.sid(): True, b.sid(): True}
    acks = {}
    for _ in range(2):
        frame = await fake_busd.next(f.Acked)
        acks[frame.socket_id] = json.loads(frame.arguments)
    assert acks == {a.sid(): [], b.sid(): ["b"]}  # acked with nothing -> []


async def test_ack_ids_are_dropped_after_the_welcome_timeout(make_node, fake_busd):
    fake_busd.ack_timeout_ms = 150
    node = await connected_node(make_node, fake_busd, ack_sweep_interval=0.05)
    client = await node.client()
    sid = client.sid()
    await fake_busd.next(f.SocketConnect)
    node.manager._register_ack(sid, ACK_BASE + 5)
    assert ACK_BASE + 5 in node.manager.callbacks[sid]
    await wait_until(lambda: ACK_BASE + 5 not in node.manager.callbacks[sid], timeout=3, what="expiry")
    assert node.manager.stats.acks_expired == 1
    # The server's own acks still work afterwards (the table keeps its counter).
    assert await node.sio.call("ping", "x", to=sid, timeout=5) == "ok"


async def test_volatile_delivery_to_a_writable_socket(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    client = await node.client()
    await fake_busd.next(f.SocketConnect)
    fake_busd.send(f.Deliver(0, f.flags_byte(volatile=True), "/", [client.sid()], b'2["vol"]', []))
    assert await client.next() == ("/", "vol", [])


async def test_volatile_delivery_skips_a_socket_that_is_not_writable(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    client = await node.client()
    sid = client.sid()
    await fake_busd.next(f.SocketConnect)
    eio_sid = node.manager.eio_sid_from_sid(sid, "/")
    sock = node.sio.eio.sockets[eio_sid]
    sock.upgrading = True  # mid-upgrade: engine.io would not write it now
    fake_busd.send(f.Deliver(0, f.flags_byte(volatile=True), "/", [sid], b'2["vol"]', []))
    await wait_until(lambda: node.manager.stats.volatile_dropped == 1, what="volatile drop")
    fake_busd.send(f.Deliver(0, 0, "/", [sid], b'2["solid"]', []))
    assert await client.next() == ("/", "solid", [])
    sock.upgrading = False


async def test_sockets_join_and_leave_change_local_rooms_without_echo(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    client = await node.client()
    sid = client.sid()
    await fake_busd.next(f.SocketConnect)
    fake_busd.send(f.SocketsJoin("/", [sid, "unknown"], ["joinedRemote", "second"]))
    await wait_until(lambda: "joinedRemote" in node.manager.get_rooms(sid, "/"), what="remote join")
    assert set(node.manager.get_rooms(sid, "/")) == {sid, "joinedRemote", "second"}
    await node.sio.emit("inRoom", 1, room="joinedRemote")
    assert await client.next() == ("/", "inRoom", [1])
    fake_busd.send(f.SocketsLeave("/", [sid], ["joinedRemote"]))
    await wait_until(lambda: "joinedRemote" not in node.manager.get_rooms(sid, "/"), what="remote leave")
    frames_sent = await fake_busd.quiet()
    assert not any(isinstance(x, (f.SocketJoin, f.SocketLeave)) for x in frames_sent)


async def test_sockets_disconnect(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    a = await node.client(namespaces=["/", "/chat"])
    b = await node.client()
    for _ in range(3):
        await fake_busd.next(f.SocketConnect)
    disconnected = []

    @node.sio.on("disconnect")
    async def on_disconnect(sid, reason):
        disconnected.append(sid)

    fake_busd.send(f.SocketsDisconnect("/", [b.sid()], False))
    assert (await fake_busd.next(f.SocketDisconnect)).socket_id == b.sid()
    await wait_until(lambda: disconnected == [b.sid()], what="server disconnect handler")
    # close=True ends the whole engine.io connection: /chat goes too.
    a_sid, a_chat = a.sid("/"), a.sid("/chat")
    fake_busd.send(f.SocketsDisconnect("/", [a_sid], True))
    got = {(await fake_busd.next(f.SocketDisconnect)).socket_id for _ in range(2)}
    assert got == {a_sid, a_chat}
    await wait_until(lambda: not a.sio.connected, what="client a to be disconnected")


async def test_server_side_emit_reaches_the_handler(make_node, fake_busd):
    calls = asyncio.Queue()

    async def handler(namespace, event, args):
        await calls.put((namespace, event, args))

    await connected_node(make_node, fake_busd, on_server_side_emit=handler)
    fake_busd.send(f.ServerSideEmit("/", b'["hello",{"from":"emitter"},2]'))
    assert await asyncio.wait_for(calls.get(), 5) == ("/", "hello", [{"from": "emitter"}, 2])
    fake_busd.send(f.ServerSideEmit("/", b'{"not":"a list"}'))  # logged and dropped
    fake_busd.send(f.Ping(1))
    assert await fake_busd.next() == f.Pong(1)


async def test_server_side_emit_without_handler_is_ignored(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    fake_busd.send(f.ServerSideEmit("/", b'["hello",2]'))
    fake_busd.send(f.Ping(3))
    assert await fake_busd.next() == f.Pong(3)
    assert node.manager.stats.server_side_emits == 1


async def test_broadcasts_are_forwarded_and_delivered_locally(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    client = await node.client(namespaces=["/", "/chat"])
    other = await node.client()
    sid, other_sid = client.sid(), other.sid()
    for _ in range(3):
        await fake_busd.next(f.SocketConnect)

    await node.sio.emit("news", {"a": 1})
    assert await fake_busd.next() == f.Broadcast("/", 0, [], [], b'2["news",{"a":1}]', [])
    assert await client.next() == ("/", "news", [{"a": 1}])
    assert await other.next() == ("/", "news", [{"a": 1}])

    await node.sio.emit("multi", ("x", 2), room=["roomA", "roomB"], skip_sid=sid)
    assert await fake_busd.next() == f.Broadcast("/", 0, ["roomA", "roomB"], [sid], b'2["multi","x",2]', [])

    await node.sio.emit("bin", {"blob": b"\x00\xff"}, to="roomA", namespace="/chat")
    assert await fake_busd.next() == f.Broadcast(
        "/chat", 0, ["roomA"], [], b'51-/chat,["bin",{"blob":{"_placeholder":true,"num":0}}]', [b"\x00\xff"])

    await node.sio.emit("none", to="roomA")
    assert (await fake_busd.next()).packet == b'2["none"]'

    # A sid of another node (not local) goes to the cluster...
    await node.sio.emit("remote", 1, to="someone-elses-sid")
    assert (await fake_busd.next()).rooms == ["someone-elses-sid"]
    # ...one of ours, or with a callback, or ignore_queue, stays here.
    await node.sio.emit("direct", 1, to=sid)
    assert await client.next() == ("/", "direct", [1])
    await node.sio.emit("two", 1, to=[sid, other_sid])
    assert await node.sio.call("asked", 1, to=other_sid, timeout=5) == "ok"
    await node.sio.emit("local", 1, ignore_queue=True)
    assert await fake_busd.quiet() == []


async def test_reconnect_resends_registry_and_queued_broadcasts(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd, min_delay=0.02, max_delay=0.1)
    client = await node.client()
    sid = client.sid()
    connect = await fake_busd.next(f.SocketConnect)
    await node.sio.enter_room(sid, "roomA")
    await fake_busd.next(f.SocketJoin)

    await fake_busd.stop()  # busd goes away and stays away for a while
    await wait_until(lambda: not node.manager.link.connected, what="link down")
    await node.sio.emit("while-away", 1)  # queued
    await node.sio.enter_room(sid, "roomB")  # not sent now; part of the resync
    await asyncio.sleep(0.2)  # a few failed reconnect attempts
    await fake_busd.start()
    await wait_until(lambda: fake_busd.connections == 2, timeout=5, what="reconnect")
    assert await fake_busd.next() == connect  # same connected_at
    assert await fake_busd.next() == f.SocketJoin("/", sid, ["roomA", "roomB"])
    assert await fake_busd.next() == f.Broadcast("/", 0, [], [], b'2["while-away",1]', [])
    stats = node.manager.link.stats
    assert stats.sessions == 2 and stats.broadcasts_queued == 1 and stats.broadcasts_dropped == 0


async def test_queue_bound_drops_the_oldest_broadcasts(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd, max_queue=2, min_delay=0.02, max_delay=0.1)
    await fake_busd.stop()  # busd goes away and stays away while we emit
    await wait_until(lambda: not node.manager.link.connected, what="link down")
    for i in range(4):
        await node.sio.emit("n", i)
    assert node.manager.link.stats.broadcasts_dropped == 2
    await fake_busd.start()
    await wait_until(lambda: fake_busd.connections == 2, timeout=5, what="reconnect")
    got = [await fake_busd.next(f.Broadcast) for _ in range(2)]
    assert [x.packet for x in got] == [b'2["n",2]', b'2["n",3]']


async def test_error_from_busd_and_bad_frames_make_it_reconnect(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd, min_delay=0.02, max_delay=0.1)
    fake_busd.send(f.Error(5, "shutting down"))
    await wait_until(lambda: fake_busd.connections == 2, timeout=5, what="reconnect after ERROR")
    # A frame type the connector does not know: it answers ERROR 1 and reconnects.
    await fake_busd.connected.wait()
    fake_busd.send_raw(b"\x00\x00\x00\x01\x7f")
    err = await fake_busd.next(f.Error)
    assert err.code == 1 and "unknown frame type 0x7f" in err.message
    await wait_until(lambda: fake_busd.connections == 3, timeout=5, what="reconnect after bad frame")
    # A frame that only goes node -> busd is unexpected.
    await fake_busd.connected.wait()
    fake_busd.send(f.SocketJoin("/", "x", []))
    err = await fake_busd.next(f.Error)
    assert err.code == 3
    await wait_until(lambda: fake_busd.connections == 4, timeout=5, what="reconnect after unexpected frame")
    assert node.manager.link.stats.errors_received == 1


async def test_backoff_grows_with_jitter_and_caps():
    from socketbus_connector.link import Link
    link = Link("/nonexistent", min_delay=0.1, max_delay=5.0)
    for attempt, step in [(0, 0.1), (1, 0.2), (3, 0.8), (6, 5.0), (40, 5.0)]:
        delays = [link._delay(attempt) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert max(delays) - min(delays) > step / 10  # jittered


async def test_unreachable_busd_is_retried_until_it_appears(make_node, workdir):
    from conftest import FakeBusd
    path = str(workdir / "later.sock")
    node = await make_node(path, min_delay=0.02, max_delay=0.1)
    client = await node.client()  # starts the link; busd is not there yet
    await asyncio.sleep(0.3)
    assert not node.manager.link.connected
    fake = await FakeBusd(path).start()
    try:
        connect = await fake.next(f.SocketConnect)
        assert connect.socket_id == client.sid()
    finally:
        await fake.stop()


async def test_error_6_is_counted_and_the_session_goes_on(make_node, fake_busd, caplog):
    node = await connected_node(make_node, fake_busd)
    client = await node.client()
    await fake_busd.next(f.SocketConnect)
    for _ in range(3):
        fake_busd.send(f.Error(6, "BROADCAST packet: not a packet string"))
    await node.sio.emit("after", 1)
    assert (await fake_busd.next(f.Broadcast)).packet == b'2["after",1]'
    assert await client.next() == ("/", "after", [1])
    stats = node.manager.link.stats
    await wait_until(lambda: stats.frames_rejected_by_busd == 3, what="three ERROR 6 counted")
    assert fake_busd.connections == 1 and stats.sessions == 1
    assert node.manager.link.connected
    lines = [r for r in caplog.records if "busd skipped a frame" in r.getMessage()]
    assert len(lines) == 1  # the first only, not one per frame


async def test_a_broadcast_the_protocol_cannot_carry_raises_and_the_link_stays(make_node, fake_busd):
    node = await connected_node(make_node, fake_busd)
    client = await node.client()
    await fake_busd.next(f.SocketConnect)
    with pytest.raises(ValueError, match="frame length"):
        await node.sio.emit("big", "x" * (16 << 20))
    with pytest.raises(ValueError, match="65535"):
        await node.sio.emit("news", 1, to="r" * 70000)
    assert await fake_busd.quiet() == []
    await node.sio.emit("after", 2)
    assert (await fake_busd.next(f.Broadcast)).packet == b'2["after",2]'
    assert await client.next() == ("/", "after", [2])
    assert fake_busd.connections == 1 and node.manager.link.stats.sessions == 1
