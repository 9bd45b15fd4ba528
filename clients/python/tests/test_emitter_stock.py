"""emit_with_confirmation with targets on a stock Socket.IO 4.8.1 server
(@socket.io/redis-adapter 8.3.0, Tests/Interop/peers/server.js) beside a
busd node: the stock part goes as the adapter's acked broadcast, every
client gets the event once."""

import asyncio
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import free_port
from test_emitter_confirmations import Client, busd_ready, connect
from socketbus_connector import AsyncEmitter

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[3]
PEER = ROOT / "Tests" / "Interop" / "peers" / "server.js"


def stock_modules():
    for candidate in (os.environ.get("SOCKETBUS_STOCK_SOCKETIO"), ROOT / ".." / "shared" / "stock-socketio" / "node_modules",
                      ROOT / "Tests" / "Interop" / "node_modules"):
        if candidate and (Path(candidate) / "@socket.io" / "redis-adapter").exists():
            return Path(candidate).resolve()
    return None


@pytest.fixture
def stock_node(redis_server, workdir):
    modules = stock_modules()
    if modules is None:
        pytest.fail("no stock socket.io modules (../shared/stock-socketio or $SOCKETBUS_STOCK_SOCKETIO)")
    port = free_port()
    log = open(workdir / "stock.log", "ab")
    process = subprocess.Popen(
        ["node", str(PEER), "--name", "stock", "--port", str(port), "--adapter", "stock", "--redis", redis_server.url],
        env={**os.environ, "NODE_PATH": f"{modules}:/usr/share/nodejs"}, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"stock node did not start: {(workdir / 'stock.log').read_text()[-2000:]}")
            time.sleep(0.05)

    class Stock:
        url = f"http://127.0.0.1:{port}"
        clients = []

    yield Stock
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


async def stock_client(stock, behaviour, ack=None, rooms=""):
    client = Client(behaviour, ack)
    await client.sio.connect(stock.url + (f"?rooms={rooms}" if rooms else ""), transports=["websocket"], wait_timeout=5)
    stock.clients.append(client)
    return client


@pytest.fixture
async def mixed(start_busd, make_node, stock_node, redis_client):
    daemon = start_busd("--ack-policy", "requested", "--ack-timeout", "5s")
    node = await make_node(daemon.socket)
    yield node, stock_node
    for client in stock_node.clients:
        try:
            await asyncio.wait_for(client.sio.disconnect(), 5)
        except Exception:  # noqa: BLE001
            pass


async def response_subscribers(redis_client):
    return dict(await redis_client.pubsub_numsub("socket.io-response#/#"))[b"socket.io-response#/#"]


async def test_socket_on_a_stock_node_gets_the_acked_broadcast(mixed, redis_client):
    node, stock = mixed
    far = await stock_client(stock, "ack", ack={"stock": True})
    await asyncio.sleep(0.2)
    before = await response_subscribers(redis_client)
    emitter = AsyncEmitter(redis_client)
    report = await emitter.to(far.sid).emit_with_confirmation("hello", 1, timeout=3, id="st-1")
    assert report.channel == ""  # socketbus's broadcast not sent: its only target is on the stock node
    assert report.expected == [] and report.stock is not None
    assert report.stock.sockets == [far.sid] and report.stock.clients == 1
    assert report.stock.acks == [{"stock": True}] and report.stock.servers_answered == report.stock.servers >= 1
    assert report.all_delivered
    assert far.events == [("hello", [1])]
    assert await redis_client.pubsub_channels("socketbus:acks:*") == []
    assert await response_subscribers(redis_client) == before


async def test_room_across_a_busd_node_and_a_stock_node_reaches_each_client_once(mixed, redis_client):
    node, stock = mixed
    near = await connect(node, "ack", ack="near", room="team")
    far = await stock_client(stock, "ack", ack="far", rooms="team")
    far_silent = await stock_client(stock, "silent", rooms="team")
    await busd_ready(redis_client, [near.sid])
    await asyncio.sleep(0.3)
    emitter = AsyncEmitter(redis_client)
    report = await emitter.to("team").emit_with_confirmation("news", {"n": 2}, timeout=2.5)
    assert report.expected == [near.sid] and report.outcomes[near.sid].args == ["near"]
    assert sorted(report.stock.sockets) == sorted([far.sid, far_silent.sid])
    assert report.stock.clients == 2 and report.stock.acks == ["far"]
    assert not report.stock.is_complete and not report.all_delivered  # one stock client never acked
    await asyncio.sleep(0.3)
    for client in (near, far, far_silent):
        assert client.events == [("news", [{"n": 2}])]
    assert await redis_client.pubsub_channels("socketbus:acks:*") == []
