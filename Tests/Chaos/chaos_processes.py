"""The processes the chaos test kills and watches: a redis-server that is
killed -9 and restarted on the same port, and busd with its log in a file."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from chaos_common import REDIS_SERVER, NODE_ID, free_port


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
