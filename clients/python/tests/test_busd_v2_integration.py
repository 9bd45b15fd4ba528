"""Local protocol version 2 end to end with real parts: redis-server, the
repository's busd, a python-socketio AsyncServer using the connector, and
python-socketio clients."""

import msgpack
import pytest

from test_busd_integration import Subscription, adapter_message, busd_subscribed, registered

pytestmark = pytest.mark.timeout(60)


async def test_v2_session_typed_rooms_reach_redis_as_a_stock_node_sends_them(busd, make_node, redis_client):
    node = await make_node(busd.socket)
    assert await node.manager.start(timeout=5)
    assert node.manager.protocol_version == 2
    client = await node.client(namespaces=["/", "/chat"])
    sid = client.sid()
    assert (await registered(redis_client, sid))[0] == "py-node"
    assert (await registered(redis_client, client.sid("/chat")))[2] == "/chat"
    await node.sio.enter_room(sid, 123)
    uid = node.manager.uid

    async with Subscription(redis_client, "socket.io#*") as sub:
        # A numeric room is a msgpack integer and names the room channel, as
        # @socket.io/redis-adapter publishes io.to(123).
        await node.sio.emit("num", 1, to=123, skip_sid="someone")
        channel, data = await sub.next()
        assert channel == "socket.io#/#123#"
        message = msgpack.unpackb(data, strict_map_key=False)
        assert message == [uid, {"type": 2, "data": ["num", 1], "nsp": "/"},
                           {"rooms": [123], "except": ["someone"], "flags": {}}]
        assert isinstance(message[2]["rooms"][0], int)
        assert await client.next() == ("/", "num", [1])

        await node.sio.emit("text", 2, to="123")
        channel, data = await sub.next()
        assert channel == "socket.io#/#123#"
        assert msgpack.unpackb(data)[2]["rooms"] == ["123"]
        await node.sio.emit("two", 3, to=[1.5, "x"])
        channel, data = await sub.next()
        assert channel == "socket.io#/#"
        assert msgpack.unpackb(data)[2]["rooms"] == [1.5, "x"]
    await client.nothing(0.3)  # "text" and "two" reach no room this socket is in


async def test_v2_join_then_broadcast_from_redis_never_misses(busd, make_node, redis_client):
    """The issue's race: enter_room has returned, then another node
    publishes to that room (or to all except it): 200 of each, 0 misses and
    0 deliveries to an excepted socket."""
    node = await make_node(busd.socket)
    client = await node.client()
    sid = client.sid()
    await registered(redis_client, sid)
    await busd_subscribed(redis_client)
    assert node.manager.protocol_version == 2
    for i in range(200):
        await node.sio.enter_room(sid, f"r{i}")
        channel, payload = adapter_message(["in", i], rooms=[f"r{i}"])
        await redis_client.publish(channel, payload)
        assert await client.next() == ("/", "in", [i])
        await node.sio.enter_room(sid, f"x{i}")
        channel, payload = adapter_message(["excepted", i], except_=[f"x{i}"])
        await redis_client.publish(channel, payload)
        channel, payload = adapter_message(["mark", i], rooms=[sid])
        await redis_client.publish(channel, payload)
        assert await client.next() == ("/", "mark", [i])
