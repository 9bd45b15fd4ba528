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


def manager(name: str, busd_socket: str):
    """The connector's manager; its cluster options where it has them (the
    v1 connector has neither on_server_side_emit nor requests_timeout)."""

    def on_server_side_emit(namespace, event, args):
        # As peers/server.js: every event is answered with where it went.
        return {"from": name, "args": list(args)}

    try:
        return SocketbusAsyncManager(path=busd_socket, node_name=name, on_server_side_emit=on_server_side_emit,
                                     requests_timeout=1.0)
    except TypeError:
        return SocketbusAsyncManager(path=busd_socket, node_name=name)


def build(name: str, busd_socket: str) -> web.Application:
    mgr = manager(name, busd_socket)
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=mgr)
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

    def cluster(method):
        """A cluster call of the connector's manager, named as the stock adapter's."""
        fn = getattr(mgr, method, None)
        if fn is None:
            raise NotImplementedError(f"the python connector has no {method}")
        return fn

    def described(sockets):
        return [{"id": s["id"], "label": labels.get(s["id"]), "handshake": s.get("handshake"),
                 "rooms": list(s.get("rooms") or []), "data": s.get("data")} for s in sockets]

    async def server_count(call):
        return await cluster("server_count")(call.get("nsp", "/"))

    async def fetch_sockets(call):
        return described(await cluster("fetch_sockets")(call.get("nsp", "/"), to=call.get("rooms") or None,
                                                         skip=call.get("except") or None))

    async def all_rooms(call):
        return list(await cluster("all_rooms")(call.get("nsp", "/")))

    async def sockets_join(call):
        await cluster("sockets_join")(call["targets"], call.get("nsp", "/"), to=call.get("rooms") or None,
                                      skip=call.get("except") or None)

    async def sockets_leave(call):
        await cluster("sockets_leave")(call["targets"], call.get("nsp", "/"), to=call.get("rooms") or None,
                                       skip=call.get("except") or None)

    async def disconnect_sockets(call):
        await cluster("disconnect_sockets")(call.get("nsp", "/"), to=call.get("rooms") or None,
                                            skip=call.get("except") or None, close=bool(call.get("close")))

    async def server_side_emit(call):
        args = call.get("args") or []
        if call.get("withAck"):
            return await cluster("server_side_emit_with_ack")(call["event"], *args, namespace=call.get("nsp", "/"))
        await cluster("server_side_emit")(call["event"], *args, namespace=call.get("nsp", "/"))

    calls = {"serverCount": server_count, "fetchSockets": fetch_sockets, "allRooms": all_rooms,
             "socketsJoin": sockets_join, "socketsLeave": sockets_leave, "disconnectSockets": disconnect_sockets,
             "serverSideEmit": server_side_emit, "join": join, "broadcast": broadcast, "joinThen": join_then, "localRooms": local_rooms, "localSockets": local_sockets,
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
