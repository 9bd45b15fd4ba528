"""A python-socketio server that is a node of the interop cluster through
clients/python and its own busd, driven like peers/server.js by POST /control.

    python python_node.py --name P --port 8003 --busd-socket /tmp/x/busd.sock
"""

import argparse
import json
import os
import sys
from urllib.parse import parse_qs
from pathlib import Path

from aiohttp import web

# INTEROP_PYTHON_CONNECTOR: another copy of clients/python (e.g. another branch's).
sys.path.insert(0, os.environ.get("INTEROP_PYTHON_CONNECTOR") or str(Path(__file__).resolve().parents[3] / "clients" / "python"))

import socketio  # noqa: E402
from socketbus_connector import SocketbusAsyncManager  # noqa: E402


def build(name: str, busd_socket: str) -> web.Application:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=SocketbusAsyncManager(path=busd_socket, node_name=name),
    )
    app = web.Application()
    sio.attach(app)
    labels = {}

    @sio.event
    async def connect(sid, environ, auth=None):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        labels[sid] = query.get("label")
        # rooms=room1,n:123 enters "room1" and the number 123, as server.js does.
        for room in filter(None, query.get("rooms", "").split(",")):
            await sio.enter_room(sid, int(room[2:]) if room.startswith("n:") else room)

    @sio.event
    async def disconnect(sid, *reason):
        labels.pop(sid, None)

    async def broadcast(call):
        rooms = call.get("rooms") or None
        if call.get("except"):
            raise ValueError("python-socketio's emit has no except-rooms (skip_sid takes socket ids)")
        args = call.get("args") or []
        data = tuple(args) if len(args) != 1 else args[0]
        await sio.emit(call["event"], data, to=rooms, namespace=call.get("nsp", "/"))

    async def join_then(call):
        if "join" in call:
            await sio.enter_room(call["sid"], call["join"])
        if "leave" in call:
            await sio.leave_room(call["sid"], call["leave"])
        async with __import__("aiohttp").ClientSession() as session:
            async with session.post(call["url"], data=json.dumps(call["then"])) as response:
                return await response.json(content_type=None)

    async def local_rooms(call):
        return list(sio.rooms(call["sid"], namespace=call.get("nsp", "/")))

    async def local_sockets(call):
        nsp = call.get("nsp", "/")
        return [{"id": sid, "label": label, "rooms": list(sio.rooms(sid, namespace=nsp))} for sid, label in labels.items()]

    async def configure(call):
        return None

    async def received(call):
        return []

    async def join(call):
        for room in call["rooms"]:
            await sio.enter_room(call["sid"], room)

    calls = {"join": join, "broadcast": broadcast, "joinThen": join_then, "localRooms": local_rooms, "localSockets": local_sockets,
             "configure": configure, "received": received}

    async def control(request):
        call = json.loads(await request.text())
        fn = calls.get(call["op"])
        if fn is None:
            return web.json_response({"error": f"the python node has no {call['op']}"})
        try:
            return web.json_response({"value": await fn(call)})
        except Exception as error:  # the test reads the message
            return web.json_response({"error": f"{type(error).__name__}: {error}"})

    app.router.add_post("/control", control)
    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--busd-socket", required=True)
    args = parser.parse_args()
    web.run_app(build(args.name, args.busd_socket), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
