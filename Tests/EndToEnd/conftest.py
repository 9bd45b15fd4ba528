"""Real parts for the end-to-end tests: redis-server, the busd and busctl
binaries of this build, a python-socketio server with the socketbus
connector, and Socket.IO clients."""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis
import websocket

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "PyHarness"))
from harness import free_port, wait_for  # noqa: E402,F401  (the tests import them from here)

BIN = Path(os.environ.get("SOCKETBUS_BIN_DIR", ROOT / ".build" / "debug"))
CAPTURES = [ROOT / ".." / "shared" / "vectors" / "captured.jsonl", ROOT / "Tests" / "SocketIOCodecTests" / "Fixtures" / "captured.jsonl"]


def captures():
    path = next(p for p in CAPTURES if p.exists())
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Stack:
    """redis-server + busd + the python-socketio node, each a process."""

    def __init__(self, workdir: Path, busd_args=()):
        self.workdir = workdir
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}"
        self.busd_socket = str(workdir / "busd.sock")
        self.http_port = free_port()
        self.processes = []
        self.logs = {}
        try:
            self._start_all(busd_args)
        except BaseException:
            self.stop()  # no processes left behind by a failed start
            raise

    def _start_all(self, busd_args):
        self._start(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        )
        self.redis = redis.Redis(port=self.redis_port)
        wait_for(self._redis_up, what="redis-server")
        self._start(
            "busd",
            [str(BIN / "busd"), "--redis", self.redis_url, "--node-id", "e2e-node", "--socket", self.busd_socket,
             "--log-level", "info", *busd_args],
        )
        wait_for(lambda: os.path.exists(self.busd_socket), what="busd's socket")
        self._start(
            "node",
            [sys.executable, str(Path(__file__).parent / "node_server.py"), "--port", str(self.http_port),
             "--busd-socket", self.busd_socket],
        )
        wait_for(self._http_up, what="the python-socketio node")

    def _start(self, name, argv):
        log = open(self.workdir / f"{name}.log", "wb")
        self.logs[name] = self.workdir / f"{name}.log"
        self.processes.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))

    def _redis_up(self):
        try:
            return self.redis.ping()
        except redis.exceptions.ConnectionError:
            return False

    def _http_up(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.http_port)) == 0

    def busctl(self, *args, timeout=30):
        return subprocess.run([str(BIN / "busctl"), *args, "--redis", self.redis_url], capture_output=True, text=True,
                              timeout=timeout)

    def records(self, message_id):
        return [json.loads(r) for r in self.redis.lrange(f"socketbus:acks:{message_id}", 0, -1)]

    def log(self, name):
        return self.logs[name].read_text(errors="replace")

    def stop(self):
        for process in reversed(self.processes):
            process.kill()
            process.wait(timeout=10)
        self.processes = []


class RawClient:
    """A Socket.IO client speaking Engine.IO 4 over a WebSocket by hand, so
    that the test sees every frame byte for byte and decides itself whether
    (and when) to ack."""

    def __init__(self, port: int, close_on=None):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", timeout=10)
        assert self.ws.recv().startswith("0{")
        self.ws.send("40")
        opened = self.ws.recv()
        assert opened.startswith("40{"), opened
        self.sid = json.loads(opened[2:])["sid"]
        self.frames = []
        self.close_on = close_on
        self.lock = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            try:
                frame = self.ws.recv()
            except Exception:
                break
            if frame == "2":  # Engine.IO ping
                self.ws.send("3")
                continue
            if self.close_on and isinstance(frame, str) and self.close_on in frame:
                self.ws.close()
                break
            with self.lock:
                self.frames.append(frame)
                self.lock.notify_all()
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def next(self, timeout=5.0):
        """The next frame (str for text, bytes for a binary attachment)."""
        with self.lock:
            if not self.lock.wait_for(lambda: self.frames or self.closed, timeout):
                raise AssertionError("no frame arrived")
            if not self.frames:
                raise AssertionError("the connection closed")
            return self.frames.pop(0)

    def send(self, text):
        self.ws.send(text)

    def close(self):
        self.ws.close()


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path, busd_args=("--ack-policy", "all", "--ack-timeout", "3s"))
    yield s
    s.stop()
