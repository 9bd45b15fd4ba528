"""Real parts for the chaos tests: a redis-server that can be killed -9 and
restarted on the same port, busd (this build's binary) with its log in a
file, a real SMTP server (aiosmtpd) and a real HTTP listener as the alert
sinks, a raw node speaking the local protocol, a steady emitter load and a
watcher of the adapter channels.

Nothing here is faked: busd talks to a real Redis, delivers to a real Unix
socket client and sends its alerts through a real SMTP dialogue and a real
HTTP POST."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from chaos_common import (BIN, REQUIRED_FLAGS, SMTP_FROM, SMTP_TO, SUMMARIES, quiet_redis, registry_diff,
                          registry_matches, socket_id, wait_for)
from chaos_sinks import SmtpSink, WebhookSink
from chaos_processes import RedisProcess, BusdProcess
from chaos_load import NodeClient, Emitter, AdapterWatcher


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for title, text in SUMMARIES:
        terminalreporter.write_sep("-", title)
        for line in text.splitlines():
            terminalreporter.write_line(line)



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
    """busd copied once per run, so that a rebuild during the run does not change it."""
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
