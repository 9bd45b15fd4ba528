"""The README's emitter example, run as written against redis-server, busd,
a python-socketio server with the connector and real clients."""

import re
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from conftest import free_port
from test_emitter_confirmations import busd_ready, connect

pytestmark = pytest.mark.timeout(60)

README = Path(__file__).resolve().parents[1] / "README.md"


def example_namespace():
    text = README.read_text()
    match = re.search(r"<!-- example: notify-handler[^\n]*\n```python\n(.*?)```", text, re.S)
    assert match, "the README lost its example"
    namespace = {"__name__": "readme_example"}
    exec(compile(match.group(1), str(README), "exec"), namespace)
    return namespace


async def test_readme_notify_handler(start_busd, make_node, redis_client):
    daemon = start_busd("--ack-policy", "requested", "--ack-timeout", "5s")
    node = await make_node(daemon.socket)
    acker = await connect(node, "ack", ack="ok", room="user:42")
    silent = await connect(node, "silent", room="user:7")
    await busd_ready(redis_client, [acker.sid, silent.sid])

    runner = web.AppRunner(example_namespace()["make_app"](redis_client))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/notify/42", json={"text": "hi"},
                                 headers={"Idempotency-Key": "order-1"}) as response:
                assert response.status == 200
                body = await response.json()
            assert body == {"messageId": "order-1", "delivered": True,
                            "sockets": {acker.sid: {"status": "delivered", "args": ["ok"]}}, "unanswered": []}
            assert acker.events == [("notification", [{"text": "hi"}])]

            async with http.post(f"http://127.0.0.1:{port}/notify/7", json={"text": "yo"}) as response:
                assert response.status == 202
                body = await response.json()
            assert body["messageId"].startswith("emitter-") and not body["delivered"]
            assert body["sockets"] == {silent.sid: {"status": "timeout", "args": None}}
    finally:
        await runner.cleanup()
    assert await redis_client.pubsub_channels("socketbus:acks:*") == []
