"""The demo's Socket.IO node: a python-socketio 5.x server (aiohttp) whose
client manager is the socketbus connector, linked to busd over its Unix
socket. scripts/demo.sh starts it; it is not meant for production.

    python scripts/demo/node.py --busd-socket /tmp/x/busd.sock [--lifetime 600]

It listens on a free loopback port and prints one line per event:
"listening on http://127.0.0.1:PORT" first, "linked to busd as NODE-ID" once
busd answered. Clients send "join" with a room name to enter that room.
SIGTERM or SIGINT stops it; so does --lifetime (seconds), in case whoever
started it is gone.
"""

import argparse
import asyncio
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))

import socketio  # noqa: E402
from socketbus_connector import SocketbusAsyncManager  # noqa: E402


def say(text: str) -> None:
    print(f"node: {text}", flush=True)


async def serve(busd_socket: str, lifetime: float) -> int:
    manager = SocketbusAsyncManager(path=busd_socket, node_name="socketbus-demo-node")
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)
    app = web.Application()
    sio.attach(app)

    @sio.event
    async def connect(sid, environ):
        say(f"client connected, sid {sid}")

    @sio.event
    async def disconnect(sid, reason):
        say(f"client {sid} left ({reason})")

    @sio.on("join")
    async def join(sid, room):
        await sio.enter_room(sid, str(room))
        say(f"{sid} joined room {room}")
        return "joined", str(room)

    # Bound here, port 0: the kernel picks a free port and nobody can take it
    # between choosing and listening.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, listener).start()
    say(f"listening on http://127.0.0.1:{listener.getsockname()[1]}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # A launcher may have left them blocked; whoever started us stops us with them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    status = 0
    if await manager.start(timeout=10):
        say(f"linked to busd as {manager.node_id}")
        try:
            await asyncio.wait_for(stop.wait(), lifetime)
        except asyncio.TimeoutError:
            say(f"stopping after --lifetime {lifetime:g}s")
    else:
        say(f"busd did not answer on {busd_socket} within 10s")
        status = 1
    await manager.close()
    await runner.cleanup()
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description="socketbus demo node")
    parser.add_argument("--busd-socket", required=True, help="busd's Unix socket")
    parser.add_argument("--lifetime", type=float, default=600, help="exit after this many seconds")
    args = parser.parse_args()
    return asyncio.run(serve(args.busd_socket, args.lifetime))


if __name__ == "__main__":
    sys.exit(main())
