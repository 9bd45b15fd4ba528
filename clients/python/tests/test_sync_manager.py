"""SocketbusManager in a threading socketio.Server (wsgiref, so long-polling
only) against real busd and redis-server. The client is the aiohttp-based
AsyncClient: the sync socketio.Client would need `requests` for polling."""

import asyncio
import json
import socketserver
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import msgpack
import pytest
import redis
import socketio

from socketbus_connector import SocketbusManager

from conftest import RecordingClient, free_port

pytestmark = pytest.mark.timeout(60)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def poll(predicate, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def threaded_node(busd):
    manager = SocketbusManager(path=busd.socket, node_name="pytest-sync")
    sio = socketio.Server(client_manager=manager, async_mode="threading")
    port = free_port()
    httpd = make_server("127.0.0.1", port, socketio.WSGIApp(sio), server_class=_ThreadingWSGIServer,
                        handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    yield manager, sio, url
    manager.close()
    httpd.shutdown()
    httpd.server_close()


async def test_threading_server_end_to_end(threaded_node, redis_server, busd_help):
    manager, sio, url = threaded_node
    c = RecordingClient(ack_value="sync-ok")
    await c.sio.connect(url, transports=["polling"], wait_timeout=5)
    try:
        await asyncio.to_thread(_scenario, manager, sio, c, asyncio.get_running_loop(), redis_server, busd_help)
    finally:
        if c.sio.connected:
            await c.sio.disconnect()


def _scenario(manager, sio, c, loop, redis_server, busd_help):
    """Runs in a worker thread, as request handlers of a threading server do."""
    r = redis.Redis.from_url(redis_server.url)
    sid = c.sid()

    def next_event():
        namespace, event, args = asyncio.run_coroutine_threadsafe(c.next(), loop).result(10)
        return event, args

    value = poll(lambda: r.hget("socketbus:owner", sid), what="registry entry")
    assert value.decode().split("\t")[0::2] == ["py-node", "/"]
    # The broadcast pattern, and the request channel as a pattern or (busd as a
    # full cluster member) a plain subscription counted by NUMSUB.
    poll(lambda: r.pubsub_numpat() >= 2 or (r.pubsub_numpat() >= 1 and r.pubsub_numsub("socket.io-request#/#")[0][1]),
         what="busd's subscriptions")

    # Redis -> busd -> threading server -> client.
    payload = msgpack.packb(["pytest", {"type": 2, "data": ["ev", 1], "nsp": "/"},
                             {"rooms": [sid], "except": [], "flags": {}}])
    r.publish(f"socket.io#/#{sid}#", payload)
    assert next_event() == ("ev", [1])

    # Server broadcast -> busd -> Redis, and locally.
    sub = r.pubsub()
    sub.psubscribe("socket.io#*")
    sub.get_message(timeout=2)
    sio.emit("news", {"n": 2})
    message = None
    deadline = time.monotonic() + 5
    while message is None and time.monotonic() < deadline:
        message = sub.get_message(ignore_subscribe_messages=True, timeout=0.2)
    assert message is not None, "no broadcast on Redis"
    assert msgpack.unpackb(message["data"])[1]["data"] == ["news", {"n": 2}]
    assert next_event() == ("news", [{"n": 2}])
    sub.close()

    # A broadcast the protocol cannot carry raises in the caller's thread;
    # the link stays (sessions is checked at the end).
    with pytest.raises(ValueError, match="frame length"):
        sio.emit("big", "x" * (16 << 20))

    # Rooms reach busd.
    sio.enter_room(sid, "roomS")
    time.sleep(0.1)
    payload = msgpack.packb(["pytest", {"type": 2, "data": ["inRoom"], "nsp": "/"},
                             {"rooms": ["roomS"], "except": [], "flags": {}}])
    r.publish("socket.io#/#roomS#", payload)
    assert next_event() == ("inRoom", [])

    # Requests from other processes, carried out on the link thread.
    join = json.dumps({"type": 2, "opts": {"rooms": [sid], "except": []}, "rooms": ["remoteS"]})
    r.publish("socket.io-request#/#", join)
    poll(lambda: "remoteS" in manager.get_rooms(sid, "/"), what="remote join")

    if "--ack-policy" in busd_help:  # default policy: requested
        acks = r.pubsub()
        acks.subscribe("socketbus:acks:sync-1")
        acks.get_message(timeout=2)
        payload = msgpack.packb(["pytest", {"type": 2, "data": ["ask"], "nsp": "/"},
                                 {"rooms": [sid], "except": [], "flags": {}, "socketbus": {"id": "sync-1", "ack": True}}])
        r.publish(f"socket.io#/#{sid}#", payload)
        assert next_event() == ("ask", [])
        record = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = acks.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message and json.loads(message["data"]).get("type") == "confirmation":
                record = json.loads(message["data"])
                break
        acks.close()
        assert record is not None, "no confirmation"
        assert (record["socketId"], record["status"], record["args"]) == (sid, "delivered", ["sync-ok"])

    disconnect = json.dumps({"type": 4, "opts": {"rooms": ["remoteS"], "except": []}, "close": True})
    r.publish("socket.io-request#/#", disconnect)
    poll(lambda: not c.sio.connected, what="client disconnected by a remote request")
    poll(lambda: r.hget("socketbus:owner", sid) is None, what="registry entry removed")
    assert manager.link.stats.sessions == 1
    r.close()


# --- protocol version 2, against the fake busd ------------------------------------------

@pytest.fixture
def threaded_node_v2(fake_busd2):
    manager = SocketbusManager(path=fake_busd2.path, node_name="pytest-sync-v2", callback_timeout=5)
    sio = socketio.Server(client_manager=manager, async_mode="threading")
    port = free_port()
    httpd = make_server("127.0.0.1", port, socketio.WSGIApp(sio), server_class=_ThreadingWSGIServer,
                        handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield manager, sio, f"http://127.0.0.1:{port}"
    manager.close()
    httpd.shutdown()
    httpd.server_close()


async def test_threading_server_speaks_v2(threaded_node_v2, fake_busd2):
    from socketbus_connector import frames as f

    manager, sio, url = threaded_node_v2
    assert await asyncio.to_thread(manager.start, True, 5)
    assert manager.protocol_version == 2
    assert await fake_busd2.next() == f.Namespace("/")
    c = RecordingClient(ack_value="sync-ok")
    await c.sio.connect(url, transports=["polling"], wait_timeout=5)
    try:
        sid = c.sid()
        assert (await fake_busd2.next(f.SocketConnect)).socket_id == sid
        assert await fake_busd2.next() == f.RoomsJoin("/", sid, [sid])
        await asyncio.to_thread(sio.enter_room, sid, 11)
        assert await fake_busd2.next() == f.RoomsJoin("/", sid, [11])

        # DELIVER_TO_ROOMS by the node's own rooms, ack id and DELIVERED.
        fake_busd2.send(f.DeliverToRooms(0, 0, "/", ["11"], [], b'2["text"]', []))
        fake_busd2.send(f.DeliverToRooms(1 << 52, 0, "/", [11], [], b'24503599627370496["num"]', []))
        assert await fake_busd2.next(f.Delivered) == f.Delivered(1 << 52, "/", [sid])
        assert await c.next() == ("/", "num", [])
        acked = await fake_busd2.next(f.Acked)
        assert (acked.socket_id, acked.arguments) == (sid, b'["sync-ok"]')

        # APPLY join, reported back.
        fake_busd2.send(f.Apply(f.ApplyOp.JOIN, "/", [11], [], ["vip"], False))
        assert await fake_busd2.next() == f.RoomsJoin("/", sid, ["vip"])

        # QUESTION FETCH and a server-side emit with ack to a plain handler.
        fake_busd2.send(f.Question(5, f.QuestionKind.FETCH, "/", b'{"rooms":["vip"],"except":[]}'))
        frame = await fake_busd2.next(f.Answer)
        described = json.loads(frame.body)
        assert frame.status == 0 and [d["id"] for d in described] == [sid]
        assert set(map(str, described[0]["rooms"])) == {sid, "11", "vip"}
        manager.on_server_side_emit(lambda ns, event, args: f"{event}:{args[0]}")
        fake_busd2.send(f.Question(6, f.QuestionKind.SERVER_SIDE_EMIT, "/", b'["hey",4]'))
        frame = await fake_busd2.next(f.Answer)
        assert (frame.request, frame.status, json.loads(frame.body)) == (6, 0, ["hey:4"])

        # Blocking cluster calls from a request thread.
        task = asyncio.create_task(asyncio.to_thread(manager.server_count))
        request = await fake_busd2.next(f.ClusterRequest)
        fake_busd2.send(f.ClusterReply(request.request, 0, b'{"count":4}'))
        assert await task == 4
        task = asyncio.create_task(asyncio.to_thread(manager.fetch_sockets, "/", "vip"))
        request = await fake_busd2.next(f.ClusterRequest)
        assert json.loads(request.body) == {"rooms": ["vip"], "except": []}
        fake_busd2.send(f.ClusterReply(request.request, 0, b'{"sockets":[{"id":"far"}]}'))
        assert [d["id"] for d in await task] == [sid, "far"]

        # call() to another server's socket, from a request thread.
        task = asyncio.create_task(asyncio.to_thread(sio.call, "q", 1, to="farSid", timeout=5))
        frame = await fake_busd2.next(f.BroadcastWithAck)
        assert (frame.rooms, frame.packet, frame.timeout_ms) == (["farSid"], b'2["q",1]', 5000)
        fake_busd2.send(f.AckArgument(frame.request, b'"far-ok"'))
        assert await task == "far-ok"

        # python-socketio's enter_room on another server's sid: socketsJoin.
        await asyncio.to_thread(sio.enter_room, "farSid", "r")
        request = await fake_busd2.next(f.ClusterRequest)
        assert (request.kind, json.loads(request.body)) == (
            f.ClusterKind.ADD_SOCKETS, {"opts": {"rooms": ["farSid"], "except": []}, "rooms": ["r"]})
    finally:
        if c.sio.connected:
            await c.sio.disconnect()
