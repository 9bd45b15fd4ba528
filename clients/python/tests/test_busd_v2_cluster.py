"""Two python-socketio servers, each with its own real busd, on one real
redis-server: the adapter API of one server reaches the other through the
stock request protocol (busd as a full cluster member, local protocol v2).
Needs a busd that answers and issues cluster requests (issue 13)."""

import asyncio

import pytest

from conftest import Busd, wait_until
from test_busd_integration import registered

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def two_nodes(busd_binary, redis_server, workdir, make_node, redis_client):
    daemons = []
    nodes = []
    for i in (1, 2):
        directory = workdir / f"n{i}"
        directory.mkdir()
        daemon = Busd(busd_binary, redis_server.url, directory, node_id=f"py-node-{i}").start()
        daemons.append(daemon)
        node = await make_node(daemon.socket)
        assert await node.manager.start(timeout=5)
        assert node.manager.protocol_version == 2
        nodes.append(node)
    yield nodes
    for daemon in daemons:
        daemon.stop()


async def connected(node, redis_client, **options):
    client = await node.client(**options)
    await registered(redis_client, client.sid())
    return client


async def test_the_adapter_api_across_two_python_servers(two_nodes, redis_client):
    one, two = two_nodes
    a = await connected(one, redis_client, ack_value="a-ack")
    b = await connected(two, redis_client, ack_value="b-ack")
    a_sid, b_sid = a.sid(), b.sid()
    await one.sio.enter_room(a_sid, "ra")
    await one.sio.enter_room(a_sid, "123")
    await two.sio.enter_room(b_sid, 123)
    pings = asyncio.Queue()

    @two.manager.on_server_side_emit
    async def on_emit(namespace, event, args):
        await pings.put((namespace, event, args))
        return f"pong-{args[0]}" if event == "ping" else None

    await wait_until(lambda: _count_is(one, 2), what="server count 2")
    assert await one.manager.server_count() == 2
    assert await two.manager.server_count() == 2

    sockets = await one.manager.fetch_sockets()
    assert sorted(s["id"] for s in sockets) == sorted([a_sid, b_sid])
    remote = next(s for s in sockets if s["id"] == b_sid)
    assert sorted(map(str, remote["rooms"])) == sorted([b_sid, "123"]) and 123 in remote["rooms"]
    assert remote["handshake"]["query"]["EIO"] == "4" and remote["data"] == {}
    assert [s["id"] for s in await one.manager.fetch_sockets(to=123)] == [b_sid]
    assert [s["id"] for s in await one.manager.fetch_sockets(to="123")] == [a_sid]
    assert await one.manager.cluster_rooms(b_sid) in ([b_sid, 123], [123, b_sid])
    assert {a_sid, b_sid, "ra", "123", 123} <= await one.manager.all_rooms()

    # A broadcast to the numeric room 123 reaches b only, never a's room "123".
    await one.sio.emit("num", 1, to=123)
    assert await b.next() == ("/", "num", [1])
    await a.nothing(0.3)

    # socketsJoin / enter_room / leave_room from one server onto the other's socket.
    await one.manager.sockets_join("joined", to=123)
    await wait_until(lambda: "joined" in two.manager.get_rooms(b_sid, "/"), what="socketsJoin on two")
    await one.sio.enter_room(b_sid, "viaOne")
    await wait_until(lambda: "viaOne" in two.manager.get_rooms(b_sid, "/"), what="enter_room of a remote sid")
    await one.sio.leave_room(b_sid, "viaOne")
    await wait_until(lambda: "viaOne" not in two.manager.get_rooms(b_sid, "/"), what="leave_room of a remote sid")

    # serverSideEmit, with and without ack.
    assert await one.manager.server_side_emit_with_ack("ping", 7) == ["pong-7"]
    assert await asyncio.wait_for(pings.get(), 5) == ("/", "ping", [7])
    await one.manager.server_side_emit("note", {"n": 1})
    assert await asyncio.wait_for(pings.get(), 5) == ("/", "note", [{"n": 1}])

    # An emit with a callback / call() to the other server's client.
    assert await one.sio.call("q", 1, to=b_sid, timeout=5) == "b-ack"
    acks = []
    await one.sio.emit("ask", 2, callback=lambda *args: acks.append(args))
    await wait_until(lambda: len(acks) == 2, what="two acks")
    assert sorted(acks) == [("a-ack",), ("b-ack",)]

    # disconnect of the other server's socket.
    await one.sio.disconnect(b_sid)
    await wait_until(lambda: not b.sio.connected, what="b disconnected from server one")


async def _count_is(node, n):
    return await node.manager.server_count() == n
