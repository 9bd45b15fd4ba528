"""End to end with real parts: redis-server, busd, a python-socketio
AsyncServer (aiohttp) using the connector, and python-socketio clients.
Adapter payloads come from Tests/SocketIOCodecTests/Fixtures/captured.jsonl
(what @socket.io/redis-emitter 5.1.0 really published) or are built with
msgpack in the @socket.io/redis-adapter 8.3 shape."""

import asyncio
import hashlib
import json
import time
from pathlib import Path

import msgpack
import pytest

from conftest import wait_until

pytestmark = pytest.mark.timeout(60)

CAPTURED = Path(__file__).resolve().parents[3] / "Tests" / "SocketIOCodecTests" / "Fixtures" / "captured.jsonl"


def captured(seq):
    """(channel, payload bytes) of a captured Redis message."""
    for line in CAPTURED.read_text().splitlines():
        record = json.loads(line)
        if record["seq"] == seq:
            return record["channel"], bytes.fromhex(record["hex"])
    raise KeyError(seq)


def adapter_message(data, rooms=(), except_=(), nsp="/", uid="pytest", flags=None, socketbus=None):
    """[uid, packet, opts] as @socket.io/redis-adapter 8.3 publishes it."""
    opts = {"rooms": list(rooms), "except": list(except_), "flags": flags or {}}
    if socketbus is not None:
        opts["socketbus"] = socketbus
    channel = f"socket.io#{nsp}#{rooms[0]}#" if len(rooms) == 1 else f"socket.io#{nsp}#"
    return channel, msgpack.packb([uid, {"type": 2, "data": data, "nsp": nsp}, opts])


async def busd_subscribed(redis_client, namespaces=("/",)):
    await wait_until(lambda: _subscribed(redis_client, namespaces), what="busd's subscriptions")


async def _subscribed(redis_client, namespaces):
    """busd PSUBSCRIBEs each namespace's broadcast pattern, and its request
    channel: as a pattern (busd before issue 13) or a plain SUBSCRIBE that
    PUBSUB NUMSUB counts (a full cluster member)."""
    numpat = await redis_client.pubsub_numpat()
    if numpat >= 2 * len(namespaces):
        return True
    counts = await redis_client.pubsub_numsub(*[f"socket.io-request#{ns}#" for ns in namespaces])
    return numpat >= len(namespaces) and all(count >= 1 for _, count in counts)


async def owner(redis_client, sid):
    value = await redis_client.hget("socketbus:owner", sid)
    return value.decode() if value else None


async def registered(redis_client, sid, timeout=5.0):
    value = await wait_until(lambda: owner(redis_client, sid), timeout=timeout, what=f"registry entry of {sid}")
    node, at, namespace = value.split("\t")
    return node, int(at), namespace


class Subscription:
    """A redis-py pattern subscription that collects messages."""

    def __init__(self, redis_client, pattern):
        self.pubsub = redis_client.pubsub()
        self.pattern = pattern

    async def __aenter__(self):
        await self.pubsub.psubscribe(self.pattern)
        await self.pubsub.get_message(timeout=2)  # the psubscribe confirmation
        return self

    async def __aexit__(self, *exc):
        await self.pubsub.punsubscribe()
        await self.pubsub.aclose()

    async def next(self, timeout=5.0, where=lambda channel, data: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message and message["type"] == "pmessage":
                channel = message["channel"].decode()
                if where(channel, message["data"]):
                    return channel, message["data"]
        raise AssertionError(f"nothing on {self.pattern} within {timeout}s")


async def test_connect_is_registered_and_adapter_messages_reach_the_client(busd, make_node, redis_client):
    node = await make_node(busd.socket)
    before = int(time.time() * 1000)
    client = await node.client()
    sid = client.sid()
    node_id, at, namespace = await registered(redis_client, sid)
    assert (node_id, namespace) == ("py-node", "/")
    assert before - 2000 <= at <= int(time.time() * 1000) + 2000
    assert node.manager.node_id == "py-node" and len(node.manager.uid) == 6

    await busd_subscribed(redis_client)
    channel, payload = captured(3)  # emitter.emit('broadcastAll', ...) to all of '/'
    assert await redis_client.publish(channel, payload) >= 1
    assert await client.next() == ("/", "broadcastAll", ["plain string", 42, True, None])

    channel, payload = adapter_message(["ev", 1], rooms=[sid])
    assert channel == f"socket.io#/#{sid}#"
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/", "ev", [1])

    await client.sio.disconnect()
    await wait_until(lambda: _gone(redis_client, sid), what="registry entry removed")


async def _gone(redis_client, sid):
    return await owner(redis_client, sid) is None


async def test_other_namespaces_are_registered_and_served(busd, make_node, redis_client):
    node = await make_node(busd.socket)
    client = await node.client(namespaces=["/", "/chat"])
    chat_sid = client.sid("/chat")
    assert (await registered(redis_client, chat_sid))[2] == "/chat"
    # busd subscribes a namespace's channels when its first socket connects.
    await busd_subscribed(redis_client, ("/", "/chat"))
    channel, payload = captured(1)  # emitter.of('/chat').emit('findSocket', {hello:'chat'})
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/chat", "findSocket", [{"hello": "chat"}])
    channel, payload = adapter_message(["toChatSid", 1], rooms=[chat_sid], nsp="/chat")
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/chat", "toChatSid", [1])
    await client.nothing(0.2)


async def test_rooms_reach_busd_and_binary_deliveries_arrive(busd, make_node, redis_client):
    node = await make_node(busd.socket)
    client = await node.client()
    sid = client.sid()
    await registered(redis_client, sid)
    await busd_subscribed(redis_client)

    await node.sio.enter_room(sid, "roomA")
    await asyncio.sleep(0.1)  # SOCKET_JOIN is on its way over the local socket
    channel, payload = captured(4)  # emitter.to('roomA').emit('toRoom', ...)
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/", "toRoom", [{"room": "roomA"}])

    channel, payload = captured(7)  # binary attachment to roomA
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/", "bin", [{"name": "file.bin", "data": b"\x00\x01\x02\xfe\xff"}])

    await node.sio.leave_room(sid, "roomA")
    await asyncio.sleep(0.1)
    channel, payload = captured(4)
    await redis_client.publish(channel, payload)
    await client.nothing(0.5)


async def test_server_broadcasts_reach_redis_in_adapter_format(busd, make_node, redis_client):
    node = await make_node(busd.socket)
    client = await node.client()
    sid = client.sid()
    await registered(redis_client, sid)
    uid = node.manager.uid

    async with Subscription(redis_client, "socket.io#*") as sub:
        await node.sio.emit("news", {"n": 1})
        channel, data = await sub.next()
        assert channel == "socket.io#/#"
        assert msgpack.unpackb(data) == [
            uid, {"type": 2, "data": ["news", {"n": 1}], "nsp": "/"}, {"rooms": [], "except": [], "flags": {}}]
        # Delivered locally once: busd drops its own uid coming back.
        assert await client.next() == ("/", "news", [{"n": 1}])

        await node.sio.emit("toRoom", ("a", 2), room="roomZ", skip_sid=sid)
        channel, data = await sub.next()
        assert channel == "socket.io#/#roomZ#"
        message = msgpack.unpackb(data)
        assert message[1]["data"] == ["toRoom", "a", 2]
        assert (message[2]["rooms"], message[2]["except"]) == (["roomZ"], [sid])

        await node.sio.emit("bin", {"blob": b"\x00\x01\xff"})
        channel, data = await sub.next()
        assert msgpack.unpackb(data)[1]["data"] == ["bin", {"blob": b"\x00\x01\xff"}]
        assert await client.next() == ("/", "bin", [{"blob": b"\x00\x01\xff"}])
    await client.nothing(0.3)


async def test_requests_from_other_processes(busd, make_node, redis_client):
    calls = asyncio.Queue()
    node = await make_node(busd.socket, on_server_side_emit=lambda ns, event, args: calls.put_nowait((ns, event, args)))
    client = await node.client()
    other = await node.client()
    sid = client.sid()
    await registered(redis_client, sid)
    await busd_subscribed(redis_client)

    # emitter.in(sid).socketsJoin('joinedRemote'), as captured (seq 15) with our sid.
    join = json.dumps({"type": 2, "opts": {"rooms": [sid], "except": []}, "rooms": ["joinedRemote"]},
                      separators=(",", ":"))
    await redis_client.publish("socket.io-request#/#", join)
    await wait_until(lambda: "joinedRemote" in node.manager.get_rooms(sid, "/"), what="remote join")
    channel, payload = captured(16)  # emitter.to('joinedRemote').emit('afterJoin', 1)
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/", "afterJoin", [1])
    await other.nothing(0.2)

    leave = json.dumps({"type": 3, "opts": {"rooms": [sid], "except": []}, "rooms": ["joinedRemote"]})
    await redis_client.publish("socket.io-request#/#", leave)
    await wait_until(lambda: "joinedRemote" not in node.manager.get_rooms(sid, "/"), what="remote leave")

    channel, payload = captured(13)  # emitter.serverSideEmit('hello', {from:'emitter'}, 2)
    await redis_client.publish(channel, payload)
    assert await asyncio.wait_for(calls.get(), 5) == ("/", "hello", [{"from": "emitter"}, 2])

    disconnect = json.dumps({"type": 4, "opts": {"rooms": [sid], "except": []}, "close": False})
    await redis_client.publish("socket.io-request#/#", disconnect)
    await wait_until(lambda: not client.sio.connected or not client.sio.namespaces, what="client disconnected")
    await wait_until(lambda: _gone(redis_client, sid), what="registry entry removed")
    assert other.sio.connected


async def test_busd_restart_reconnects_and_rebuilds_the_registry(busd, make_node, redis_client):
    node = await make_node(busd.socket, min_delay=0.05, max_delay=0.5)
    client = await node.client()
    sid = client.sid()
    first = await registered(redis_client, sid)
    await node.sio.enter_room(sid, "roomA")

    busd.kill()
    await wait_until(lambda: not node.manager.link.connected, what="link down")
    await redis_client.flushall()  # whatever busd wrote is gone
    await node.sio.emit("whileDown", 1)  # queued in the connector

    async with Subscription(redis_client, "socket.io#*") as sub:
        busd.start()
        assert await registered(redis_client, sid, timeout=10) == first  # same node, connected-at, namespace
        channel, data = await sub.next(where=lambda channel, data: msgpack.unpackb(data)[1]["data"][0] == "whileDown")
        assert channel == "socket.io#/#"
    assert node.manager.link.stats.sessions == 2
    assert await client.next() == ("/", "whileDown", [1])  # delivered locally at once

    # The rooms came back too: a roomA message reaches the client.
    await busd_subscribed(redis_client)
    channel, payload = captured(4)
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/", "toRoom", [{"room": "roomA"}])


def _confirmation(channel, data):
    return json.loads(data).get("type") == "confirmation"


async def test_ack_requested_by_the_publisher_is_confirmed(busd_help, start_busd, make_node, redis_client):
    assert "--ack-policy" in busd_help
    daemon = start_busd("--ack-policy", "requested", "--ack-timeout", "5s")
    node = await make_node(daemon.socket)
    client = await node.client(ack_value={"fine": True})
    sid = client.sid()
    await registered(redis_client, sid)
    await busd_subscribed(redis_client)
    assert node.manager.link.welcome.ack_timeout_ms == 5000

    async with Subscription(redis_client, "socketbus:acks:*") as sub:
        channel, payload = adapter_message(["askMe", 5], rooms=[sid], socketbus={"id": "msg-1", "ack": True})
        await redis_client.publish(channel, payload)
        assert await client.next() == ("/", "askMe", [5])
        channel, data = await sub.next(where=_confirmation)
        assert channel == "socketbus:acks:msg-1"
        record = json.loads(data)
        assert record["messageId"] == "msg-1"
        assert record["socketId"] == sid
        assert record["status"] == "delivered"
        assert record["args"] == [{"fine": True}]
        assert record["node"] == "py-node"
        assert record["ackId"] >= 2**52

        # Not requested under the `requested` policy: no ack id, no record.
        channel, payload = adapter_message(["plain", 1], rooms=[sid])
        await redis_client.publish(channel, payload)
        assert await client.next() == ("/", "plain", [1])
        with pytest.raises(AssertionError):
            await sub.next(timeout=0.5)
    assert node.manager.stats.acks_reported == 1


async def test_ack_policy_all_confirms_under_the_payload_digest(busd_help, start_busd, make_node, redis_client):
    assert "--ack-policy" in busd_help
    daemon = start_busd("--ack-policy", "all")
    node = await make_node(daemon.socket)
    a, b = await node.client(ack_value=None), await node.client(ack_value="b")
    await registered(redis_client, a.sid())
    await registered(redis_client, b.sid())
    await busd_subscribed(redis_client)

    channel, payload = captured(3)  # to the whole namespace: both sockets, one ack id
    digest = hashlib.sha256(payload).hexdigest()[:32]
    async with Subscription(redis_client, f"socketbus:acks:{digest}") as sub:
        await redis_client.publish(channel, payload)
        records = {}
        for _ in range(2):
            _, data = await sub.next(where=_confirmation)
            record = json.loads(data)
            records[record["socketId"]] = (record["status"], record["args"])
    assert records == {a.sid(): ("delivered", []), b.sid(): ("delivered", ["b"])}


async def test_a_broadcast_busd_cannot_decode_keeps_the_session_and_the_registry(busd, make_node, redis_client):
    from socketbus_connector import frames as f

    node = await make_node(busd.socket)
    client = await node.client()
    sid = client.sid()
    await registered(redis_client, sid)
    await busd_subscribed(redis_client)
    link = node.manager.link
    # What a server with socket.io-msgpack-parser would hand over: not a packet string.
    packet = msgpack.packb({"type": 2, "data": ["news", 1], "nsp": "/"})
    link.send_broadcast(f.Broadcast("/", 0, [], [], packet, []))
    await wait_until(lambda: link.stats.frames_rejected_by_busd == 1, what="ERROR 6 from busd")
    await asyncio.sleep(0.2)
    assert link.connected and link.stats.sessions == 1
    assert await owner(redis_client, sid) is not None
    channel, payload = adapter_message(["after", 1], rooms=[sid])
    await redis_client.publish(channel, payload)
    assert await client.next() == ("/", "after", [1])
