"""The load around busd: a raw node speaking the local protocol (sockets,
broadcasts, DELIVER counting), an emitter publishing adapter broadcasts,
and a watcher of the adapter channels."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import msgpack
import redis

from chaos_common import NAMESPACE, ROOM, OUT_ROOM, EMITTER_UID, quiet_redis, now_ms
from socketbus_connector import frames as f


class NodeClient:
    """Connects to busd as a node: HELLO/WELCOME, sockets in ROOM, a reader
    thread (PING → PONG, counts DELIVERs, notes EOF/errors as a dropped
    connection) and a sender thread emitting numbered BROADCASTs to OUT_ROOM."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.send_lock = threading.Lock()
        self.lock = threading.Lock()
        self.decoder = f.FrameDecoder()
        self.closing = False
        self.dropped: str | None = None
        self.live: set[str] = set()
        # DELIVERs: count, receive times, emitter sequence numbers seen.
        self.deliver_count = 0
        self.deliver_times: list[float] = []
        self.max_emitter_seq = -1
        self.emitter_seen_at: dict[int, float] = {}
        self.other_frames: list[object] = []
        self.pings = 0
        # BROADCASTs sent: index n → monotonic send time.
        self.broadcast_times: list[float] = []
        self.sender_stop = threading.Event()
        self.sender_thread: threading.Thread | None = None

        self._send(f.Hello(1, "chaos-node", os.getpid()))
        welcome = self._read_one(timeout=10)
        assert isinstance(welcome, f.Welcome), f"expected WELCOME, got {welcome}"
        self.welcome = welcome
        self.reader = threading.Thread(target=self._read_loop, name="node-reader", daemon=True)
        self.reader.start()

    # -- frames
    def _send(self, frame):
        data = f.encode(frame)
        with self.send_lock:
            try:
                self.sock.sendall(data)
            except OSError as exc:
                if not self.closing:
                    self._drop(f"send failed: {exc!r}")
                raise

    def _read_one(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            frame = self.decoder.next_frame()
            if frame is not None:
                return frame
            if time.monotonic() > deadline:
                raise AssertionError("no frame from busd")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("busd closed the connection before WELCOME")
            self.decoder.feed(chunk)

    def _drop(self, why: str):
        with self.lock:
            if self.dropped is None:
                self.dropped = f"{why} at {time.monotonic():.3f}"

    def _read_loop(self):
        while not self.closing:
            try:
                chunk = self.sock.recv(262144)
            except socket.timeout:
                continue  # quiet is fine; busd pings when it wants
            except OSError as exc:
                if not self.closing:
                    self._drop(f"read error: {exc!r}")
                return
            if not chunk:
                if not self.closing:
                    self._drop("EOF from busd")
                return
            try:
                self.decoder.feed(chunk)
                for frame in self.decoder:
                    self._on_frame(frame)
            except f.ProtocolError as exc:
                self._drop(f"protocol error: {exc}")
                return
            except OSError:
                return

    def _on_frame(self, frame):
        if isinstance(frame, f.Ping):
            self.pings += 1
            self._send(f.Pong(frame.token))
        elif isinstance(frame, f.Deliver):
            t = time.monotonic()
            seq = None
            try:
                packet = bytes(frame.packet).decode()
                data = json.loads(packet[packet.index("["):])
                if data and data[0] == "ev":
                    seq = int(data[1])
            except (ValueError, IndexError, TypeError):
                pass
            with self.lock:
                self.deliver_count += 1
                self.deliver_times.append(t)
                if seq is not None:
                    self.emitter_seen_at.setdefault(seq, t)
                    if seq > self.max_emitter_seq:
                        self.max_emitter_seq = seq
        elif isinstance(frame, f.Error):
            self._drop(f"ERROR frame {frame.code}: {frame.message}")
        else:
            with self.lock:
                self.other_frames.append(frame)

    # -- sockets
    def connect_socket(self, sid: str):
        self._send(f.SocketConnect(NAMESPACE, sid, now_ms()))
        self._send(f.SocketJoin(NAMESPACE, sid, [sid, ROOM]))
        with self.lock:
            self.live.add(sid)

    def disconnect_socket(self, sid: str):
        self._send(f.SocketDisconnect(NAMESPACE, sid, "client namespace disconnect"))
        with self.lock:
            self.live.discard(sid)

    def live_sockets(self) -> set[str]:
        with self.lock:
            return set(self.live)

    def delivers_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(1 for t in self.deliver_times if start <= t <= end)

    # -- outbound load
    def start_broadcasting(self, rate: float):
        self.sender_thread = threading.Thread(target=self._broadcast_loop, args=(rate,), name="node-sender",
                                              daemon=True)
        self.sender_thread.start()

    def _broadcast_loop(self, rate: float):
        interval = 0.01
        per_tick = rate * interval
        owed = 0.0
        next_tick = time.monotonic()
        while not self.sender_stop.is_set() and not self.closing:
            owed += per_tick
            while owed >= 1:
                owed -= 1
                n = len(self.broadcast_times)
                packet = f'2["nodebc",{n}]'.encode()
                try:
                    self._send(f.Broadcast(NAMESPACE, 0, [OUT_ROOM], [], packet))
                except OSError:
                    return
                self.broadcast_times.append(time.monotonic())
            next_tick += interval
            delay = next_tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1:  # far behind (blocked write): do not burst
                next_tick = time.monotonic()

    def broadcasts_between(self, start: float, end: float) -> list[int]:
        times = list(self.broadcast_times)
        return [n for n, t in enumerate(times) if start <= t <= end]

    def close(self):
        self.closing = True
        self.sender_stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# --- the emitter load and the adapter-channel watcher --------------------------------------

class Emitter:
    """Publishes adapter broadcasts to ROOM at a steady rate through redis-py,
    numbered ["ev", n]; reconnects quietly while Redis is away."""

    def __init__(self, port: int, rate: float):
        self.port = port
        self.rate = rate
        self.seq = 0                      # next number to publish
        self.published: list[tuple[int, float, int]] = []  # (n, time, receivers)
        self.failures = 0
        self.stop_event = threading.Event()
        self.channel = f"socket.io#{NAMESPACE}#{ROOM}#"
        self.thread = threading.Thread(target=self._run, name="emitter", daemon=True)
        self.thread.start()

    def _payload(self, n: int) -> bytes:
        return msgpack.packb([EMITTER_UID, {"type": 2, "data": ["ev", n], "nsp": NAMESPACE},
                              {"rooms": [ROOM], "except": [], "flags": {}}], use_bin_type=True)

    def _run(self):
        client = quiet_redis(self.port)
        interval = 1.0 / self.rate
        next_t = time.monotonic()
        while not self.stop_event.is_set():
            n = self.seq
            try:
                receivers = client.publish(self.channel, self._payload(n))
                self.published.append((n, time.monotonic(), receivers))
                self.seq = n + 1
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                self.failures += 1
                self.seq = n + 1  # a number is never reused: "fresh" means larger
                client.close()
                time.sleep(0.02)
                next_t = time.monotonic()
                continue
            next_t += interval
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1:
                next_t = time.monotonic()
        client.close()

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)


class AdapterWatcher:
    """PSUBSCRIBE socket.io#* through redis-py, reconnecting as fast as it
    can after Redis comes back; records the node's numbered broadcasts seen."""

    def __init__(self, port: int):
        self.port = port
        self.seen: dict[int, float] = {}  # node broadcast n → first time seen
        self.duplicates = 0
        self.duplicate_log: list[tuple[int, float, float]] = []  # (n, first seen, seen again)
        self.order_breaks = 0
        self.last_n = -1
        self.subscribed_at: list[float] = []
        self.stop_event = threading.Event()
        self.channel = f"socket.io#{NAMESPACE}#{OUT_ROOM}#".encode()
        self.thread = threading.Thread(target=self._run, name="watcher", daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.is_set():
            client = quiet_redis(self.port, timeout=1.0)
            pubsub = client.pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.psubscribe("socket.io#*")
                while not self.stop_event.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self.subscribed_at.append(time.monotonic())
                    elif message["type"] == "pmessage" and message["channel"] == self.channel:
                        self._record(message["data"])
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                pass
            finally:
                try:
                    pubsub.close()
                    client.close()
                except Exception:  # noqa: BLE001
                    pass
            time.sleep(0.002)

    def _record(self, payload: bytes):
        try:
            uid, packet, _opts = msgpack.unpackb(payload, raw=False)
            n = int(packet["data"][1])
        except Exception:  # noqa: BLE001 - not ours
            return
        if n in self.seen:
            self.duplicates += 1
            self.duplicate_log.append((n, self.seen[n], time.monotonic()))
            return
        self.seen[n] = time.monotonic()
        if n < self.last_n:
            self.order_breaks += 1
        self.last_n = max(self.last_n, n)

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)


# --- the whole stack ---------------------------------------------------------------------
