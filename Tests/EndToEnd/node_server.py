"""A python-socketio server that is a node of a socketbus cluster: the
end-to-end tests run it as its own process, next to a real busd.

    python node_server.py --port 8123 --busd-socket /tmp/x/busd.sock
"""

import argparse
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))

import socketio  # noqa: E402
from socketbus_connector import SocketbusAsyncManager  # noqa: E402


def build(busd_socket: str) -> web.Application:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=SocketbusAsyncManager(path=busd_socket, node_name="e2e-node"),
    )
    app = web.Application()
    sio.attach(app)

    @sio.on("join")
    async def join(sid, rooms):
        for room in rooms if isinstance(rooms, list) else [rooms]:
            await sio.enter_room(sid, room)
        return "joined"

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--busd-socket", required=True)
    args = parser.parse_args()
    web.run_app(build(args.busd_socket), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
