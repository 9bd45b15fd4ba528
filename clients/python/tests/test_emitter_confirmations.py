"""Emitter / AsyncEmitter against real parts: redis-server, busd of this
build, a python-socketio AsyncServer with the connector, and python-socketio
clients that ack, stay silent, or disconnect on receipt."""

import asyncio
import json

import pytest
import redis
import socketio

from conftest import wait_until
from socketbus_connector import AsyncEmitter, Emitter

pytestmark = pytest.mark.timeout(60)


class Client:
    """A python-socketio client whose handler acks with `ack`, never answers
    ("silent": python-socketio acks when the handler returns) or disconnects."""

    def __init__(self, behaviour, ack=None):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events = []

        async def any_event(event, namespace, *args):
            self.events.append((event, list(args)))
            if behaviour == "silent":
                await asyncio.sleep(30)
            elif behaviour == "leave":
                asyncio.ensure_future(self.sio.disconnect())
                await asyncio.sleep(30)
            return ack

        self.sio.on("*", any_event, namespace="*")

    @property
    def sid(self):
        return self.sio.get_sid("/")


async def connect(node, behaviour, ack=None, room=None):
    client = Client(behaviour, ack)
    await client.sio.connect(node.url, transports=["websocket"], wait_timeout=5)
    node.clients.append(client)
    if room:
        await node.sio.enter_room(client.sid, room)
    return client


async def busd_ready(redis_client, sids):
    async def ready():
        owners = [await redis_client.hget("socketbus:owner", sid) for sid in sids]
        return all(owners) and await redis_client.pubsub_numpat() >= 1
    await wait_until(ready, what="sockets registered")


@pytest.fixture
async def cluster(start_busd, make_node, redis_client):
    daemon = start_busd("--ack-policy", "requested", "--ack-timeout", "5s")
    node = await make_node(daemon.socket)
    node.daemon = daemon
    return node


async def test_async_emit_with_confirmation_to_a_socket_id(cluster, redis_client):
    acker = await connect(cluster, "ack", ack={"fine": True})
    await busd_ready(redis_client, [acker.sid])
    emitter = AsyncEmitter(redis_client)
    baseline = await redis_client.pubsub_numpat()
    report = await emitter.to(acker.sid).emit_with_confirmation("notify", {"n": 1}, timeout=3, id="m-one")
    assert report.message_id == "m-one"
    assert report.expected == [acker.sid] and report.all_delivered
    outcome = report.outcomes[acker.sid]
    assert (outcome.status, outcome.args, outcome.node) == ("delivered", [{"fine": True}], "py-node")
    assert acker.events == [("notify", [{"n": 1}])]
    # Nothing left subscribed: no channel, no extra pattern.
    assert await redis_client.pubsub_channels("socketbus:acks:*") == []
    assert dict(await redis_client.pubsub_numsub("socketbus:acks:m-one"))[b"socketbus:acks:m-one"] == 0
    assert await redis_client.pubsub_numpat() == baseline

    stored = await emitter.records("m-one")
    assert [r["type"] for r in stored] == ["dispatched", "confirmation"]
    assert stored[1]["args"] == [{"fine": True}]


async def test_room_targets_delivered_timeout_disconnected_and_hostile_records(cluster, redis_client):
    acker = await connect(cluster, "ack", ack="ok", room="team")
    silent = await connect(cluster, "silent", room="team")
    leaver = await connect(cluster, "leave", room="team")
    outsider = await connect(cluster, "ack", ack="no")
    await busd_ready(redis_client, [acker.sid, silent.sid, leaver.sid, outsider.sid])
    await asyncio.sleep(0.3)  # room joins reach busd

    emitter = AsyncEmitter(redis_client)
    seen = []
    leaver_sid = leaver.sid  # None once it left

    async def garbage():
        # Hostile input on the very channel the emitter waits on: skipped, not raised.
        await asyncio.sleep(0.2)
        for junk in (b"\xff", b"{", b"[]", b'{"type":"confirmation","messageId":"m-room","node":"x",'
                     b'"socketId":"' + silent.sid.encode() + b'","status":"bogus"}'):
            await redis_client.publish("socketbus:acks:m-room", junk)

    task = asyncio.ensure_future(garbage())
    report = await emitter.to("team").emit_with_confirmation("alert", "disk", timeout=2.5, id="m-room",
                                                             on_outcome=seen.append)
    await task
    assert sorted(report.expected) == sorted([acker.sid, silent.sid, leaver_sid])
    statuses = {sid: o.status for sid, o in report.outcomes.items()}
    assert statuses == {acker.sid: "delivered", silent.sid: "timeout", leaver_sid: "disconnected"}
    assert report.outcomes[acker.sid].args == ["ok"]
    assert not report.all_delivered and report.unanswered == []
    assert sorted(o.socket_id for o in seen) == sorted(report.expected)
    assert outsider.events == []
    assert await redis_client.pubsub_channels("socketbus:acks:*") == []


async def test_streaming_follow_callback_and_stored_records(cluster, redis_client):
    acker = await connect(cluster, "ack", ack=1)
    await busd_ready(redis_client, [acker.sid])
    emitter = AsyncEmitter(redis_client)
    called = []
    follower = emitter.follow_with(called.append, "m-stream")

    async def collect():
        return [r async for r in emitter.follow("m-stream", timeout=5, count=2)]

    collecting = asyncio.ensure_future(collect())
    await wait_until(lambda: _numsub(redis_client, "socketbus:acks:m-stream", 2), what="followers subscribed")
    await emitter.to(acker.sid).emit_with_confirmation("ping", timeout=3, id="m-stream")
    records = await collecting
    assert [r["type"] for r in records] == ["dispatched", "confirmation"]
    await wait_until(lambda: _len(called, 2), what="callback records")
    follower.cancel()
    with pytest.raises(asyncio.CancelledError):
        await follower
    # The whole-prefix follow sees other messages too.
    every = emitter.follow(timeout=5, count=2)
    first = asyncio.ensure_future(every.__anext__())
    await wait_until(lambda: _numpat_at_least(redis_client, 2), what="pattern subscribed")
    await emitter.to(acker.sid).emit_with_confirmation("ping", timeout=3, id="m-other")
    assert (await first)["messageId"] == "m-other"
    await every.aclose()
    assert await redis_client.pubsub_channels("socketbus:acks:*") == []
    assert await emitter.records("no-such-id") == []


async def _numsub(redis_client, channel, n):
    return dict(await redis_client.pubsub_numsub(channel))[channel.encode()] >= n


async def _numpat_at_least(redis_client, n):
    return await redis_client.pubsub_numpat() >= n


async def _len(items, n):
    return len(items) >= n


async def test_sync_emitter_in_a_thread(cluster, redis_client, redis_server):
    acker = await connect(cluster, "ack", ack="sync-ok")
    silent = await connect(cluster, "silent")
    await busd_ready(redis_client, [acker.sid, silent.sid])
    client = redis.Redis.from_url(redis_server.url)
    try:
        emitter = Emitter(client)
        report = await asyncio.to_thread(
            lambda: emitter.to(acker.sid).to(silent.sid).emit_with_confirmation("sync", 7, timeout=2))
        assert report.message_id.startswith("emitter-")
        assert {s: o.status for s, o in report.outcomes.items()} == {acker.sid: "delivered", silent.sid: "timeout"}
        assert report.outcomes[acker.sid].args == ["sync-ok"]
        stored = await asyncio.to_thread(emitter.records, report.message_id)
        assert sorted(r.get("socketId", "") for r in stored if r["type"] == "confirmation") == sorted(
            [acker.sid, silent.sid])

        got = []
        following = emitter.follow_in_thread(got.append, "m-sync")
        await wait_until(lambda: _numsub(redis_client, "socketbus:acks:m-sync", 1), what="thread subscribed")
        await asyncio.to_thread(lambda: emitter.to(acker.sid).emit_with_confirmation("again", timeout=2, id="m-sync"))
        await wait_until(lambda: _len(got, 2), what="thread records")
        await asyncio.to_thread(following.stop)
        assert not following.thread.is_alive() and following.errors == []
        assert await redis_client.pubsub_channels("socketbus:acks:*") == []
        # A plain emit carries no socketbus opts: no record under a new id.
        assert emitter.to(acker.sid).emit("plain", json.dumps({"x": 1})) >= 1
    finally:
        client.close()


async def test_no_subscription_left_after_cancellation_or_a_raising_callback(cluster, redis_client, redis_server):
    acker = await connect(cluster, "ack", ack="ok")
    silent = await connect(cluster, "silent")
    await busd_ready(redis_client, [acker.sid, silent.sid])
    emitter = AsyncEmitter(redis_client)
    task = asyncio.ensure_future(emitter.to(silent.sid).emit_with_confirmation("x", timeout=10, id="m-cancel"))
    await wait_until(lambda: _numsub(redis_client, "socketbus:acks:m-cancel", 1), what="emitter subscribed")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: _no_ack_channels(redis_client), what="subscription closed after cancel")

    def boom(outcome):
        raise RuntimeError("callback failed")

    client = redis.Redis.from_url(redis_server.url)
    try:
        with pytest.raises(RuntimeError, match="callback failed"):
            await asyncio.to_thread(
                lambda: Emitter(client).to(acker.sid).emit_with_confirmation("y", timeout=3, on_outcome=boom))
    finally:
        client.close()
    await wait_until(lambda: _no_ack_channels(redis_client), what="subscription closed after an exception")


async def _no_ack_channels(redis_client):
    return await redis_client.pubsub_channels("socketbus:acks:*") == []
