"""A real Socket.IO cluster on one redis-server, for the interop tests:
stock socket.io 4.8.1 servers with @socket.io/redis-adapter 8.3.0, socketbus
servers (socket.io 4.8.1 + clients/node + busd of this build), a
python-socketio server (clients/python + busd), socket.io-client 4.8.1
clients on every server and @socket.io/redis-emitter 5.1.0 (peers/).

Every process is driven over HTTP (POST /control, JSON). Socket ids differ
from run to run, so results are compared by the clients' labels."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "PyHarness"))
from harness import free_port, wait_for  # noqa: E402,F401  (the tests import them from here)

PEERS = Path(__file__).resolve().parent / "peers"
BIN = Path(os.environ.get("SOCKETBUS_BIN_DIR", ROOT / ".build" / "debug"))
REQUESTS_TIMEOUT_MS = 1000


def stock_modules():
    """Where socket.io 4.8.1 & co. are: $SOCKETBUS_STOCK_SOCKETIO, ../shared's
    copy, or Tests/Interop/node_modules (`npm install` from the pinned
    package.json here). None when nowhere."""
    candidates = [
        os.environ.get("SOCKETBUS_STOCK_SOCKETIO"),
        ROOT / ".." / "shared" / "stock-socketio" / "node_modules",
        Path(__file__).resolve().parent / "node_modules",
    ]
    for candidate in filter(None, candidates):
        path = Path(candidate)
        if (path / "socket.io" / "package.json").exists() and (path / "@socket.io" / "redis-adapter").exists():
            return path.resolve()
    return None


def missing_parts():
    """Why the suite cannot run here, or None."""
    reasons = []
    if stock_modules() is None:
        reasons.append(
            "no stock socket.io 4.8.1 packages: set SOCKETBUS_STOCK_SOCKETIO, or keep ../shared/stock-socketio, "
            "or run `npm install --prefix Tests/Interop` (pinned in Tests/Interop/package.json)"
        )
    if shutil.which("redis-server") is None:
        reasons.append("no redis-server")
    if shutil.which("node") is None:
        reasons.append("no node")
    for module in ("redis", "ws"):
        if not (Path("/usr/share/nodejs") / module).exists() and not (stock_modules() or Path("/x")).joinpath(module).exists():
            reasons.append(f"no node module {module} (apt install node-{module})")
    return "; ".join(reasons) or None


def post(port, body, timeout=15.0):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/control", data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def handshake_shape(handshake):
    """What must match in a handshake between two clusters: the keys, the
    header names, the query, url, auth, address, flags; the types of the
    times (ports, keys and times differ from run to run)."""
    return {
        "keys": sorted(handshake),
        "headers": sorted(handshake.get("headers") or {}),
        "time": type(handshake.get("time")).__name__,
        "issued": type(handshake.get("issued")).__name__,
        **{k: handshake.get(k) for k in ("query", "url", "auth", "address", "xdomain", "secure")},
    }


@dataclass
class Node:
    name: str
    kind: str  # "stock", "socketbus" or "python"
    port: int = 0
    busd_socket: str = ""
    processes: dict = field(default_factory=dict)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class Cluster:
    """redis-server, the servers of `shape` ({name: kind}), one clients+emitter process."""

    def __init__(self, workdir: Path, shape: dict, busd_args=(), sharded_mode=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        # With a mode, every server uses the sharded adapter (createShardedAdapter / busd --adapter sharded).
        self.sharded_mode = sharded_mode
        self.busd_args = list(busd_args)
        if sharded_mode:
            self.busd_args += ["--adapter", "sharded", "--sharded-subscription-mode", sharded_mode]
        self.nodes = {name: Node(name, kind) for name, kind in shape.items()}
        self.processes = []  # (name, Popen)
        self.labels = {}  # sid -> label
        self.sids = {}  # label -> sid
        self.specs = []
        modules = stock_modules()
        self.env = {
            **os.environ,
            "NODE_PATH": f"{modules}:/usr/share/nodejs",
            "INTEROP_ROOT": str(ROOT),
        }
        try:
            self.redis_port = free_port()
            self.redis_url = f"redis://127.0.0.1:{self.redis_port}"
            self.start(
                "redis",
                ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            )
            wait_for(lambda: port_open(self.redis_port), what="redis-server")
            for node in self.nodes.values():
                self.start_node(node)
            self.clients_port = free_port()
            self.start("clients", ["node", str(PEERS / "clients.js"), "--port", str(self.clients_port), "--redis", self.redis_url])
            for node in self.nodes.values():
                self.wait_up(node.name, node.port)
            self.wait_up("clients", self.clients_port)
        except BaseException:
            self.stop()
            raise

    # --- processes ------------------------------------------------------------

    def start(self, name, argv, env=None):
        log = open(self.workdir / f"{name}.log", "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env or self.env, cwd=ROOT)
        self.processes.append((name, process))
        return process

    def wait_up(self, name, port):
        def up():
            latest = [p for n, p in self.processes if n == name][-1:]
            if latest and latest[0].poll() is not None:
                raise AssertionError(f"{name} exited:\n{self.log(name)}")
            return port_open(port)

        wait_for(up, timeout=20, what=f"{name} on port {port}")

    def start_busd(self, node):
        node.busd_socket = str(self.workdir / f"{node.name}-busd.sock")
        if os.path.exists(node.busd_socket):
            os.unlink(node.busd_socket)
        process = self.start(
            f"{node.name}-busd",
            [str(BIN / "busd"), "--redis", self.redis_url, "--node-id", f"interop-{node.name}", "--socket",
             node.busd_socket, "--http", "off", "--log-level", "info", *self.busd_args],
            # busd reads SOCKETBUS_* as settings and refuses the ones it does not know.
            env={k: v for k, v in self.env.items() if not k.startswith("SOCKETBUS_")},
        )
        node.processes["busd"] = process
        wait_for(lambda: os.path.exists(node.busd_socket) or process.poll() is not None, what=f"busd of {node.name}")
        if process.poll() is not None:
            raise AssertionError(f"busd of {node.name} exited:\n{self.log(node.name + '-busd')}")

    def start_node(self, node):
        node.port = node.port or free_port()
        if node.kind in ("socketbus", "python") and "busd" not in node.processes:
            self.start_busd(node)
        if node.kind == "python":
            argv = [sys.executable, str(PEERS / "python_node.py"), "--name", node.name, "--port", str(node.port),
                    "--busd-socket", node.busd_socket]
        else:
            argv = ["node", str(PEERS / "server.js"), "--name", node.name, "--port", str(node.port), "--adapter",
                    node.kind, "--redis", self.redis_url, "--busd-socket", node.busd_socket or "-",
                    "--requests-timeout", str(REQUESTS_TIMEOUT_MS)]
            if self.sharded_mode:
                argv += ["--sharded-mode", self.sharded_mode]
        node.processes["server"] = self.start(node.name, argv)

    def kill(self, name, part="server"):
        """SIGKILL one server process (or its busd): a node that disappears."""
        process = self.nodes[name].processes.pop(part)
        process.kill()
        process.wait(timeout=10)

    def restart(self, name):
        node = self.nodes[name]
        if node.kind in ("socketbus", "python") and "busd" not in node.processes:
            self.start_busd(node)
        if "server" not in node.processes:
            self.start_node(node)
            self.wait_up(name, node.port)

    def log(self, name):
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self):
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        self.processes = []

    # --- calls ----------------------------------------------------------------

    def call(self, name, op, timeout=15.0, **kw):
        """One adapter call on server `name` (or "E", the emitter): {"value"} or {"error"}."""
        if name == "E":
            return post(self.clients_port, {"op": "emitter", "call": {"op": op, **kw}}, timeout)
        try:
            return post(self.nodes[name].port, {"op": op, **kw}, timeout)
        except (OSError, http.client.HTTPException) as error:
            # A server that went away: say which, how, and what it (and its busd) logged last.
            node = self.nodes[name]
            states = {part: process.poll() for part, process in node.processes.items()}
            tails = "".join(f"\n--- {log} (last lines) ---\n{self.log(log)[-2000:]}"
                            for log in (name, f"{name}-busd") if (self.workdir / f"{log}.log").exists())
            raise AssertionError(f"{name}: {op}: {error!r}; exit codes (None: running): {states}{tails}") from error

    def clients_call(self, op, **kw):
        outcome = post(self.clients_port, {"op": op, **kw})
        if "error" in outcome:
            raise AssertionError(f"clients: {op}: {outcome['error']}")
        return outcome.get("value")

    def connect(self, specs):
        """specs: [(label, node name, rooms, ack mode[, namespace])]; replaces every client."""
        self.clients_call("disconnectAll")
        self.specs = specs
        wanted = [{"label": s[0], "url": self.nodes[s[1]].url, "rooms": s[2], "ack": s[3],
                   "nsp": s[4] if len(s) > 4 else "/"} for s in specs]
        self.sids = self.clients_call("connect", clients=wanted)
        self.labels = {sid: label for label, sid in self.sids.items()}

    def events(self):
        return self.clients_call("events")

    # --- normalizing results so that two clusters compare -----------------------

    def room(self, room):
        return f"sid:{self.labels[room]}" if isinstance(room, str) and room in self.labels else room

    def rooms(self, rooms):
        return sorted((self.room(r) for r in rooms), key=lambda r: (isinstance(r, str), str(r)))

    def sockets(self, sockets):
        return sorted(
            (
                {
                    "label": s.get("label") or (s.get("handshake") or {}).get("query", {}).get("label"),
                    "id": self.room(s["id"]),
                    "rooms": self.rooms(s["rooms"]),
                    "data": s.get("data"),
                    "handshake": handshake_shape(s.get("handshake") or {}),
                }
                for s in sockets
            ),
            key=lambda s: str(s["label"]),
        )
