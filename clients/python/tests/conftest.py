"""Shared fixtures: real redis-server and busd processes, a fake busd that
speaks the local protocol in-process, a python-socketio AsyncServer on
aiohttp using the connector, and recording clients."""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import socketio  # noqa: E402
from aiohttp import web  # noqa: E402

from socketbus_connector import SocketbusAsyncManager  # noqa: E402
from socketbus_connector import frames as f  # noqa: E402

# busd of this repository's build (`make test` sets SOCKETBUS_BIN_DIR).
BUSD_SOURCE = Path(
    os.environ.get("SOCKETBUS_BUSD")
    or Path(os.environ.get("SOCKETBUS_BIN_DIR", Path(__file__).resolve().parents[3] / ".build" / "debug")) / "busd"
)
REDIS_SERVER = Path(os.environ.get("SOCKETBUS_REDIS_SERVER", "/usr/bin/redis-server"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_until(predicate, timeout=5.0, interval=0.02, what="condition"):
    """Polls predicate (plain or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


@pytest.fixture
def workdir():
    # Short path: a Unix socket path must stay under 108 bytes.
    path = Path(tempfile.mkdtemp(prefix="sbpy-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


# --- real processes -----------------------------------------------------------

@pytest.fixture(scope="session")
def busd_binary():
    """busd copied once per run: newer builds replace the source during work."""
    # Part of the repository's build: missing is a broken set-up, not a skip.
    assert BUSD_SOURCE.exists(), f"no busd at {BUSD_SOURCE} (build it first: make test does)"
    directory = Path(tempfile.mkdtemp(prefix="sbpy-bin-"))
    target = directory / "busd"
    shutil.copy2(BUSD_SOURCE, target)
    yield target
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def busd_help(busd_binary):
    return subprocess.run([str(busd_binary), "--help"], capture_output=True, text=True, timeout=10).stdout


class RedisServer:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def redis_server(workdir):
    if not REDIS_SERVER.exists():
        pytest.fail(f"no redis-server at {REDIS_SERVER}")
    server = RedisServer(workdir)
    yield server
    server.stop()


class Busd:
    """A real busd process on a socket in the test's directory."""

    def __init__(self, binary: Path, redis_url: str, workdir: Path, node_id: str = "py-node", extra=()):
        self.binary = binary
        self.redis_url = redis_url
        self.socket = str(workdir / "busd.sock")
        self.log_path = workdir / "busd.log"
        self.node_id = node_id
        self.extra = list(extra)
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "--redis", self.redis_url, "--socket", self.socket, "--node-id", self.node_id,
             "--log-level", "debug", *self.extra],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"busd exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.socket)
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"busd did not listen on {self.socket}:\n{self.log_tail()}")
            time.sleep(0.05)

    def kill(self):
        """SIGKILL: no drain, no clean-up — a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines=40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture
def start_busd(busd_binary, redis_server, workdir):
    """start_busd(*extra_flags) -> a running Busd, stopped after the test."""
    started = []

    def start(*extra):
        daemon = Busd(busd_binary, redis_server.url, workdir, extra=extra)
        started.append(daemon)
        return daemon.start()

    yield start
    for daemon in started:
        daemon.stop()


@pytest.fixture
def busd(start_busd):
    return start_busd()


@pytest.fixture
async def redis_client(redis_server):
    import redis.asyncio as aioredis
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


# --- fake busd ------------------------------------------------------------------

class FakeBusd:
    """An in-process busd double: answers HELLO with WELCOME and records
    every frame the connector sends; tests push frames to the connector."""

    def __init__(self, path: str, ack_timeout_ms: int = 30000, uid: str = "fAkE01", node_id: str = "fake-node",
                 version: int = 1, strict: bool = False):
        self.path = path
        # strict: refuse a HELLO above `version` with ERROR 2, as a busd
        # that predates version 2 does (instead of answering WELCOME 1).
        self.strict = strict
        # The highest protocol version it speaks; WELCOME answers min(this, asked).
        self.version = version
        self.ack_timeout_ms = ack_timeout_ms
        self.uid = uid
        self.node_id = node_id
        self.frames: asyncio.Queue = asyncio.Queue()
        self.hellos = []
        self.connections = 0
        self.writer = None
        self.server = None
        self.connected = asyncio.Event()
        # CLUSTER_REQUEST kind 9 (enter_room waits for a room channel):
        # "never" answers {"waits":false} at once, as a busd without room
        # channels does, and keeps those requests apart in `room_waits`;
        # "manual" queues them in `frames` for the test to answer.
        self.room_wait_mode = "never"
        self.room_waits = []

    async def start(self):
        self.server = await asyncio.start_unix_server(self._serve, path=self.path)
        return self

    async def stop(self):
        self.drop()
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader, writer):
        decoder = f.FrameDecoder()
        welcomed = False
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                decoder.feed(chunk)
                for frame in decoder:
                    if not welcomed:
                        assert isinstance(frame, f.Hello), frame
                        self.hellos.append(frame)
                        if self.strict and frame.version > self.version:
                            writer.write(f.encode(f.Error(2, f"busd speaks version {self.version}")))
                            await writer.drain()
                            return
                        welcomed = True
                        self.connections += 1
                        self.writer = writer
                        version = min(self.version, frame.version)
                        writer.write(f.encode(f.Welcome(version, self.uid, self.node_id, 1 << 52, self.ack_timeout_ms)))
                        self.connected.set()
                    elif isinstance(frame, f.ClusterRequest) and frame.kind == 9 and self.room_wait_mode == "never":
                        self.room_waits.append(frame)
                        writer.write(f.encode(f.ClusterReply(frame.request, 0, b'{"waits":false}')))
                    else:
                        await self.frames.put(frame)
        except (ConnectionError, f.ProtocolError):
            pass
        finally:
            if self.writer is writer:
                self.writer = None
                self.connected.clear()
            writer.close()

    def send(self, frame):
        self.send_raw(f.encode(frame))

    def send_raw(self, data: bytes):
        assert self.writer is not None, "connector not connected"
        self.writer.write(data)

    def drop(self):
        """Closes the connector's connection (busd going away)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.connected.clear()

    async def next(self, kind=None, timeout=5.0, skip=()):
        """The next recorded frame (of type kind), skipping types in skip."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind.__name__ if kind else 'frame'} within {timeout}s")
            try:
                frame = await asyncio.wait_for(self.frames.get(), remaining)
            except asyncio.TimeoutError:
                raise AssertionError(f"no {kind.__name__ if kind else 'frame'} within {timeout}s") from None
            if isinstance(frame, tuple(skip)):
                continue
            if kind is not None:
                assert isinstance(frame, kind), f"expected {kind.__name__}, got {frame}"
            return frame

    async def quiet(self, seconds=0.3):
        """Asserts the connector sends nothing for a while; returns what came."""
        await asyncio.sleep(seconds)
        got = []
        while not self.frames.empty():
            got.append(self.frames.get_nowait())
        return got


@pytest.fixture
async def fake_busd(workdir):
    """A fake busd of protocol version 1 (the connector falls back to it)."""
    fake = await FakeBusd(str(workdir / "fake.sock")).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_busd2(workdir):
    """A fake busd of protocol version 2."""
    fake = await FakeBusd(str(workdir / "fake2.sock"), version=2).start()
    yield fake
    await fake.stop()


# --- a python-socketio node and its clients -----------------------------------------

class Node:
    """socketio.AsyncServer + SocketbusAsyncManager on aiohttp, on a free port."""

    def __init__(self, socket_path: str, **manager_options):
        self.manager = SocketbusAsyncManager(path=socket_path, node_name="pytest-node", **manager_options)
        self.sio = socketio.AsyncServer(client_manager=self.manager, async_mode="aiohttp", namespaces="*")
        self.app = web.Application()
        self.sio.attach(self.app)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runner = None
        self.clients = []

    async def start(self):
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def client(self, namespaces=None, ack_value="ok", transports=("websocket",)):
        client = RecordingClient(ack_value)
        await client.sio.connect(self.url, namespaces=namespaces or ["/"], transports=list(transports),
                                 wait_timeout=5)
        self.clients.append(client)
        return client

    async def stop(self):
        for client in self.clients:
            try:
                await asyncio.wait_for(client.sio.disconnect(), 5)
            except Exception:  # noqa: BLE001
                pass
        await self.manager.close()
        try:
            await asyncio.wait_for(self.sio.shutdown(), 5)
        except Exception:  # noqa: BLE001
            pass
        if self.runner:
            await self.runner.cleanup()


class RecordingClient:
    """socketio.AsyncClient that records every event (all namespaces) and
    acks with ack_value."""

    def __init__(self, ack_value="ok"):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue = asyncio.Queue()
        self.ack_value = ack_value

        async def any_event(event, namespace, *args):
            await self.events.put((namespace, event, list(args)))
            return self.ack_value

        self.sio.on("*", any_event, namespace="*")

    def sid(self, namespace="/"):
        return self.sio.get_sid(namespace)

    async def next(self, timeout=5.0):
        try:
            return await asyncio.wait_for(self.events.get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"client got no event within {timeout}s") from None

    async def nothing(self, seconds=0.4):
        await asyncio.sleep(seconds)
        assert self.events.empty(), f"unexpected event {self.events.get_nowait()}"


@pytest.fixture
async def make_node():
    nodes = []

    async def make(socket_path, **options):
        node = await Node(socket_path, **options).start()
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        await node.stop()
