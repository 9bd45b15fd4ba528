"""Real parts for the chaos tests: a redis-server that can be killed -9 and
restarted on the same port, busd (this build's binary) with its log in a
file, a real SMTP server (aiosmtpd) and a real HTTP listener as the alert
sinks, a raw node speaking the local protocol, a steady emitter load and a
watcher of the adapter channels.

Nothing here is faked: busd talks to a real Redis, delivers to a real Unix
socket client and sends its alerts through a real SMTP dialogue and a real
HTTP POST."""

from __future__ import annotations

import email
import email.policy
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import msgpack
import pytest
import redis
from aiosmtpd.controller import Controller
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))

from socketbus_connector import frames as f  # noqa: E402

BIN = Path(os.environ.get("SOCKETBUS_BIN_DIR", ROOT / ".build" / "debug"))
REDIS_SERVER = os.environ.get("SOCKETBUS_REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"

NODE_ID = "chaos-node"
NAMESPACE = "/"
ROOM = "chaos-room"          # every node socket is in it; the emitter targets it
OUT_ROOM = "chaos-out"       # the node broadcasts there (no local socket is in it)
EMITTER_UID = "chaosE"
SMTP_FROM = "busd@chaos.test"
SMTP_TO = ("ops@chaos.test", "oncall@chaos.test")

# The busd flags these tests need (issue 5); a binary without them is a
# build that does not implement the issue yet, which is a failure, not a skip.
REQUIRED_FLAGS = (
    "--redis-timeout", "--redis-retry-initial", "--redis-retry-max", "--outbound-buffer",
    "--outbound-overflow", "--alert-grace", "--alert-repeat", "--alert-role", "--smtp-url",
    "--smtp-starttls", "--smtp-from", "--smtp-to", "--webhook-url", "--webhook-token-file",
)

# Summaries the tests produce, printed at the end of the run (CI runs without -s).
SUMMARIES: list[tuple[str, str]] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for title, text in SUMMARIES:
        terminalreporter.write_sep("-", title)
        for line in text.splitlines():
            terminalreporter.write_line(line)


# --- small helpers ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.01, detail=None):
    """Polls predicate until truthy; returns (value, monotonic time it became so)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value, time.monotonic()
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)


def socket_id(prefix: str = "") -> str:
    """A 20-character id like socket.io's (base64id), optionally prefixed."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
    return (prefix + "".join(random.choice(alphabet) for _ in range(20)))[:20]


def quiet_redis(port: int, timeout: float = 0.5) -> redis.Redis:
    """A redis-py client that fails fast instead of retrying while Redis is away."""
    return redis.Redis(port=port, socket_timeout=timeout, socket_connect_timeout=timeout,
                       retry=Retry(NoBackoff(), 0), health_check_interval=0)


def now_ms() -> int:
    return int(time.time() * 1000)


# --- the SMTP sink (aiosmtpd) ---------------------------------------------------------

class SmtpSink:
    """A real SMTP server on 127.0.0.1; records every message it accepts."""

    def __init__(self):
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if message.is_multipart():
            part = message.get_body(preferencelist=("plain", "html"))
            body = part.get_content() if part is not None else ""
        else:
            body = message.get_content()
        with self.lock:
            self.messages.append({
                "time": time.monotonic(),
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "subject": str(message.get("Subject", "")),
                "to_header": str(message.get("To", "")),
                "body": body,
            })
        return "250 OK"

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.messages)

    def kinds(self) -> dict:
        out = {"firing": 0, "resolved": 0, "other": 0}
        for m in self.snapshot():
            out[alert_kind_of_subject(m["subject"])] += 1
        return out

    def stop(self):
        self.controller.stop()


def alert_kind_of_subject(subject: str) -> str:
    if subject.startswith("[socketbus] FIRING:"):
        return "firing"
    if subject.startswith("[socketbus] RESOLVED:"):
        return "resolved"
    return "other"


# --- the webhook sink (http.server in a thread) -------------------------------------------

class WebhookSink:
    """A real HTTP listener on 127.0.0.1; records every request, answers 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                with sink.lock:
                    sink.requests.append({
                        "time": time.monotonic(), "method": self.command, "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "raw": raw, "json": body,
                    })
                reply = b'{"ok":true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT = do_GET = _record

            def log_message(self, *args):  # keep pytest's output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-sink", daemon=True)
        self.thread.start()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.requests)

    def kinds(self) -> dict:
        out = {"firing": 0, "resolved": 0, "other": 0}
        for r in self.snapshot():
            status = (r["json"] or {}).get("status") if isinstance(r["json"], dict) else None
            out[status if status in ("firing", "resolved") else "other"] += 1
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- redis-server that dies and comes back on the same port ----------------------------

class RedisProcess:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / "redis.log"
        self.starts = 0

    def start(self):
        """Starts redis-server on self.port (retrying while the port is not free yet)."""
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.workdir), "--enable-debug-command", "yes"]
        deadline = time.monotonic() + 10
        while True:
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            self.starts += 1
            # It either listens or exits (port still taken); a short look decides.
            try:
                self.process.wait(0.02)
            except subprocess.TimeoutExpired:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server would not start on port {self.port}:\n{self.log_tail()}")
            time.sleep(0.02)

    def wait_accepting(self, timeout: float = 10.0) -> float:
        """Monotonic time at which the port first accepted a connection (then checks PING)."""
        deadline = time.monotonic() + timeout
        accepted = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if accepted is None:
                        accepted = time.monotonic()
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return accepted
            except OSError:
                pass
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{self.log_tail()}")
            time.sleep(0.002)
        raise AssertionError(f"redis-server on port {self.port} did not accept connections within {timeout}s")

    def kill9(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def log_tail(self, lines=20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# --- busd ------------------------------------------------------------------------------

REACHABLE_AGAIN = "redis reachable again"
_KV = re.compile(r"(\w+)=(\S+)")


class BusdProcess:
    def __init__(self, binary: Path, redis_url: str, socket_path: str, log_path: Path, extra: list[str]):
        self.argv = [str(binary), "--redis", redis_url, "--node-id", NODE_ID, "--socket", socket_path,
                     "--log-level", "info", *extra]
        self.socket_path = socket_path
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"busd exited with {self.process.returncode} at start:\n{self.log_tail()}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.socket_path)
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"busd did not listen on {self.socket_path}:\n{self.log_tail()}")
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(empty log)"

    def reachable_again(self) -> list[dict]:
        """The `redis reachable again` lines: level and key=value metadata (ints where numeric)."""
        out = []
        for line in self.log_text().splitlines():
            if REACHABLE_AGAIN not in line:
                continue
            parts = line.split()
            entry = {"line": line, "level": parts[1] if len(parts) > 1 else ""}
            head = line.split(" [", 1)[0]  # metadata sits before "[source] message"
            for key, value in _KV.findall(head):
                entry[key] = int(value) if value.lstrip("-").isdigit() else value
            out.append(entry)
        return out

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


# --- the node: a raw local-protocol client ---------------------------------------------------

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

def registry_state(client: redis.Redis):
    """(owner hash as {sid: value}, node socket set) or None while Redis cannot answer."""
    try:
        pipe = client.pipeline(transaction=False)
        pipe.hgetall("socketbus:owner")
        pipe.smembers(f"socketbus:node:{NODE_ID}:sockets")
        owner, members = pipe.execute()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError,
            OSError):
        return None
    return ({k.decode(): v.decode() for k, v in owner.items()}, {m.decode() for m in members})


def registry_matches(client: redis.Redis, expected: set[str]) -> bool:
    state = registry_state(client)
    if state is None:
        return False
    owner, members = state
    return (set(owner) == expected and members == expected
            and all(v.startswith(NODE_ID + "\t") for v in owner.values()))


def registry_diff(client: redis.Redis, expected: set[str]) -> str:
    state = registry_state(client)
    if state is None:
        return "registry: Redis does not answer"
    owner, members = state
    wrong_owner = {k: v for k, v in owner.items() if not v.startswith(NODE_ID + "\t")}
    return (f"registry: owner missing {sorted(expected - set(owner))[:5]} extra {sorted(set(owner) - expected)[:5]} "
            f"foreign values {list(wrong_owner.items())[:3]}; node set missing {sorted(expected - members)[:5]} "
            f"extra {sorted(members - expected)[:5]} (expected {len(expected)}, owner {len(owner)}, "
            f"set {len(members)})")


class ChaosStack:
    """redis-server + SMTP sink + webhook sink + busd + node (+ emitter, watcher)."""

    def __init__(self, binary: Path, workdir: Path, sockets: int = 30):
        self.workdir = workdir
        self.rundir = Path(tempfile.mkdtemp(prefix="sbchaos-"))  # short path for the Unix socket
        self.smtp = self.webhook = self.redis = self.busd = self.node = self.emitter = self.watcher = None
        self.token = secrets.token_hex(16)
        self.token_file = workdir / "webhook-token"
        self.token_file.write_text(self.token + "\n")
        try:
            self.smtp = SmtpSink()
            self.webhook = WebhookSink()
            self.redis = RedisProcess(workdir).start()
            self.redis.wait_accepting()
            self.check = quiet_redis(self.redis.port, timeout=0.3)
            self.busd = BusdProcess(binary, self.redis.url, str(self.rundir / "busd.sock"), workdir / "busd.log", [
                "--redis-timeout", "1s", "--redis-retry-initial", "50ms", "--redis-retry-max", "500ms",
                "--outbound-buffer", "100000", "--outbound-overflow", "drop-oldest",
                "--alert-grace", "1s", "--alert-repeat", "1h", "--alert-role", "always",
                "--smtp-url", f"smtp://127.0.0.1:{self.smtp.port}", "--smtp-starttls", "off",
                "--smtp-from", SMTP_FROM, "--smtp-to", SMTP_TO[0], "--smtp-to", SMTP_TO[1],
                "--webhook-url", f"http://127.0.0.1:{self.webhook.port}/alerts",
                "--webhook-token-file", str(self.token_file),
            ]).start()
            self.node = NodeClient(self.busd.socket_path)
            for _ in range(sockets):
                self.node.connect_socket(socket_id())
        except BaseException:
            self.stop()
            raise

    def start_load(self, emitter_rate: float = 200, node_rate: float = 300):
        self.watcher = AdapterWatcher(self.redis.port)
        self.emitter = Emitter(self.redis.port, emitter_rate)
        self.node.start_broadcasting(node_rate)

    def registry_in_sync(self, timeout: float, what: str):
        expected = self.node.live_sockets()
        return wait_for(lambda: registry_matches(self.check, expected), timeout, what, interval=0.005,
                        detail=lambda: registry_diff(self.check, expected) + "\nbusd log:\n" + self.busd.log_tail())

    def emitter_reaches_node(self, timeout: float, what: str):
        """Waits for a DELIVER of an emitter message numbered at or above the
        emitter's current number: published after this call, so it proves
        busd's subscription works now. Returns the time it arrived."""
        fresh = self.emitter.seq
        _, t = wait_for(lambda: self.node.max_emitter_seq >= fresh, timeout, what,
                        detail=lambda: f"emitter at {self.emitter.seq}, node saw up to {self.node.max_emitter_seq}"
                                       f"\nbusd log:\n{self.busd.log_tail()}")
        return t

    def describe(self) -> str:
        return (f"busd running={self.busd.running if self.busd else None}; node dropped={self.node.dropped if self.node else None}"
                f"\nbusd log tail:\n{self.busd.log_tail() if self.busd else ''}")

    def stop(self):
        for part in (self.emitter, self.watcher):
            if part is not None:
                part.stop()
        if self.node is not None:
            self.node.close()
        if self.busd is not None:
            self.busd.stop()
        if self.redis is not None:
            self.redis.kill9()
        if self.webhook is not None:
            self.webhook.stop()
        if self.smtp is not None:
            self.smtp.stop()
        shutil.rmtree(self.rundir, ignore_errors=True)


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def busd_binary():
    """busd copied once per run: the lead rebuilds the source while tests run."""
    source = BIN / "busd"
    assert source.exists(), f"no busd at {source} (build it first: make test does)"
    directory = Path(tempfile.mkdtemp(prefix="sbchaos-bin-"))
    target = directory / "busd"
    shutil.copy2(source, target)
    usage = subprocess.run([str(target), "--help"], capture_output=True, text=True, timeout=10).stdout
    missing = [flag for flag in REQUIRED_FLAGS if flag not in usage]
    if missing:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"{source} does not accept {', '.join(missing)} (issue 5's outage/alert flags)", pytrace=False)
    yield target
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def chaos_stack(busd_binary, tmp_path):
    stack = ChaosStack(busd_binary, tmp_path)
    yield stack
    stack.stop()
