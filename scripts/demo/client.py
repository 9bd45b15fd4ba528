"""The demo's Socket.IO client: a python-socketio 5.x AsyncClient that
connects to the demo node over a WebSocket, joins a room, and answers every
event. scripts/demo.sh starts it; it is not meant for production.

    python scripts/demo/client.py --url http://127.0.0.1:PORT --room demo-room [--lifetime 600]

It prints each WebSocket text frame it receives and sends ("<-" and "->"),
then "ready, sid SID, in room ROOM" once the server confirmed the join. An
event that asks for an ack (the frame carries an id after the packet type)
is answered with {"ok": true, "event": NAME}; python-socketio sends the
answer only when an ack was asked for. SIGTERM or SIGINT disconnects and
exits; so does --lifetime (seconds).
"""

import argparse
import asyncio
import json
import signal
import sys

import socketio
from socketio.packet import Packet


def say(text: str) -> None:
    print(f"client: {text}", flush=True)


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


class LoggedPacket(Packet):
    """The default Socket.IO packet format, printing each packet as the
    WebSocket frame that carries it: Engine.IO's message type "4", then the
    Socket.IO packet (type, optional ack id, JSON arguments)."""

    def encode(self):
        encoded = super().encode()
        text = encoded[0] if isinstance(encoded, list) else encoded
        say(f"-> 4{text}")
        return encoded

    def decode(self, encoded_packet):
        if isinstance(encoded_packet, str):
            say(f"<- 4{encoded_packet}")
        return super().decode(encoded_packet)


async def run(url: str, room: str, lifetime: float) -> int:
    sio = socketio.AsyncClient(serializer=LoggedPacket, reconnection=False)

    @sio.on("*")
    async def any_event(event, *args):
        answer = {"ok": True, "event": event}
        say(f"event {event} {compact(list(args))[1:-1]}, answer {compact(answer)}")
        return answer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # A launcher may have left them blocked; whoever started us stops us with them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    @sio.event
    async def disconnect(reason=None):
        say(f"disconnected ({reason})")
        stop.set()

    try:
        await sio.connect(url, transports=["websocket"], wait_timeout=10)
        answer = await sio.call("join", room, timeout=10)
    except (socketio.exceptions.SocketIOError, OSError) as error:
        say(f"could not connect and join: {error!r}")
        await sio.disconnect()
        return 1
    say(f"ready, sid {sio.get_sid()}, in room {room} (server said {compact(answer)})")
    try:
        await asyncio.wait_for(stop.wait(), lifetime)
    except asyncio.TimeoutError:
        say(f"stopping after --lifetime {lifetime:g}s")
    await sio.disconnect()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="socketbus demo client")
    parser.add_argument("--url", required=True, help="the demo node, http://127.0.0.1:PORT")
    parser.add_argument("--room", required=True, help="the room to join")
    parser.add_argument("--lifetime", type=float, default=600, help="exit after this many seconds")
    args = parser.parse_args()
    return asyncio.run(run(args.url, args.room, args.lifetime))


if __name__ == "__main__":
    sys.exit(main())
