"""A publisher flooding the adapter channel as fast as Redis takes it, for
FLOOD_SECONDS (30 by default), one message in ten malformed, against the real
busd binary with a node connected: busd stays alive, and every valid message
published is delivered to the node or counted in a drop reason (no silent
loss); the malformed ones are counted. If Redis cuts busd's subscriber, that
must be reported (data-loss counter and log line). Loopback only; bounded in
time (FLOOD_SECONDS) and count (FLOOD_MAX messages)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import msgpack
import pytest

from chaos_common import EMITTER_UID, NAMESPACE, ROOM, SUMMARIES, free_port, socket_id, wait_for
from chaos_load import NodeClient
from chaos_processes import BusdProcess, RedisProcess

FLOOD_SECONDS = float(os.environ.get("FLOOD_SECONDS", "30"))
FLOOD_MAX = int(os.environ.get("FLOOD_MAX", "20000000"))
MALFORMED_EVERY = 10
CHUNK = 1000  # commands per write
IN_FLIGHT = 8  # chunks written and not yet answered


class Flooder:
    """PUBLISHes over a raw socket, pipelined: a writer thread sends chunks of
    CHUNK commands while at most IN_FLIGHT chunks await their replies, which a
    reader thread counts (":1" reached busd's subscription, ":0" reached nobody)."""

    def __init__(self, port: int, channel: str):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.channel = channel.encode()
        self.valid = 0
        self.malformed = 0
        self.replies = {b"1": 0, b"0": 0}
        self.other_replies = 0
        self.window = threading.Semaphore(IN_FLIGHT)
        self.answered = 0
        self.stop_event = threading.Event()
        prefix = msgpack.packb(EMITTER_UID)  # [uid, {type, data: ["ev", n], nsp}, {rooms, except, flags}]
        self.head = b"\x93" + prefix + b"\x83" + msgpack.packb("type") + msgpack.packb(2) + msgpack.packb("data") + b"\x92" + msgpack.packb("ev")
        self.tail = (msgpack.packb("nsp") + msgpack.packb(NAMESPACE)
                     + msgpack.packb({"rooms": [ROOM], "except": [], "flags": {}}))
        self.command_head = b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n" % (len(self.channel), self.channel)

    def _payload(self, n: int) -> bytes:
        if n % MALFORMED_EVERY == MALFORMED_EVERY - 1:
            return b"\xc1 not msgpack %d" % n  # 0xc1 is never used in msgpack
        return self.head + msgpack.packb(n) + self.tail

    def run(self, seconds: float, limit: int):
        reader = threading.Thread(target=self._read_replies, name="flood-replies", daemon=True)
        reader.start()
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds and n < limit:
            parts = []
            for k in range(n, min(n + CHUNK, limit)):
                payload = self._payload(k)
                parts.append(self.command_head + b"$%d\r\n%s\r\n" % (len(payload), payload))
                if k % MALFORMED_EVERY == MALFORMED_EVERY - 1:
                    self.malformed += 1
                else:
                    self.valid += 1
            count = len(parts)
            n += count
            self.window.acquire()
            self.sock.sendall(b"".join(parts))
        self.elapsed = time.monotonic() - start
        wait_for(lambda: self.answered == n, 30, "every PUBLISH answered")
        self.stop_event.set()
        self.sock.close()
        return n

    def _read_replies(self):
        buffer = b""
        in_chunk = 0
        while not self.stop_event.is_set():
            try:
                data = self.sock.recv(1 << 20)
            except OSError:
                return
            if not data:
                return
            buffer += data
            lines = buffer.split(b"\r\n")
            buffer = lines.pop()
            for line in lines:
                value = line[1:]
                if line[:1] == b":" and value in self.replies:
                    self.replies[value] += 1
                else:
                    self.other_replies += 1
                self.answered += 1
                in_chunk += 1
                if in_chunk == CHUNK:
                    in_chunk = 0
                    self.window.release()


def metrics(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


@pytest.fixture
def flood_stack(busd_binary, tmp_path):
    rundir = Path(tempfile.mkdtemp(prefix="sbflood-"))
    redis = RedisProcess(tmp_path).start()
    redis.wait_accepting()
    http = free_port()
    busd = BusdProcess(busd_binary, redis.url, str(rundir / "busd.sock"), tmp_path / "busd.log",
                       ["--http", f"127.0.0.1:{http}", "--log-level", "notice"]).start()
    node = NodeClient(busd.socket_path)
    node.connect_socket(socket_id())
    try:
        yield redis, busd, node, http
    finally:
        node.close()
        busd.stop()
        redis.kill9()
        shutil.rmtree(rundir, ignore_errors=True)


@pytest.mark.timeout(FLOOD_SECONDS + 150)
def test_flood_of_valid_and_malformed_messages_loses_nothing_silently(flood_stack):
    redis, busd, node, http = flood_stack
    wait_for(lambda: metrics(http).get("socketbus_ready") == 1, 10, "busd ready", interval=0.05)
    flooder = Flooder(redis.port, f"socket.io#{NAMESPACE}#{ROOM}#")
    published = flooder.run(FLOOD_SECONDS, FLOOD_MAX)
    to_busd = flooder.replies[b"1"]

    def settled():
        m = metrics(http)
        handled = m["socketbus_messages_received_total"] + m.get('socketbus_messages_dropped_total{reason="subscriber_backlog"}', 0)
        # DELIVER frames count only those queued for the node (the ones its
        # queue had no room for are node_backlog): the node reads them all.
        return m if handled >= to_busd and node.deliver_count >= m["socketbus_messages_delivered_total"] else None

    try:
        wait_for(settled, 120, "busd and the node done with the flood", interval=0.2)
    except AssertionError:
        print("not settled within 120 s")
    time.sleep(0.5)
    m = metrics(http)
    delivered = len(node.emitter_seen_at)
    # .get: the figures print even on a busd without these counters (to compare with older builds).
    dropped = {reason: int(m.get(f'socketbus_messages_dropped_total{{reason="{reason}"}}', 0))
               for reason in ("subscriber_backlog", "node_backlog", "no_node")}
    malformed = int(m["socketbus_messages_malformed_total"])
    data_loss = int(m.get("socketbus_redis_data_loss_total", 0))
    reconnects = int(m["socketbus_redis_reconnects_total"])
    figures = (
        f"flood: {published} messages in {flooder.elapsed:.1f} s = {published / flooder.elapsed:,.0f} msg/s "
        f"({flooder.valid} valid, {flooder.malformed} malformed); Redis handed {to_busd} to busd's subscription, "
        f"{flooder.replies[b'0']} to nobody\n"
        f"busd: received {int(m['socketbus_messages_received_total'])}, delivered to the node {delivered} "
        f"(DELIVER frames {int(m['socketbus_messages_delivered_total'])}, node read {node.deliver_count}), "
        f"dropped {dropped}, malformed {malformed}, data loss {data_loss}, reconnects {reconnects}")
    print(figures)
    SUMMARIES.append(("flood", figures))

    assert busd.running, f"busd died:\n{busd.log_tail()}"
    assert urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=5).status == 200
    assert node.dropped is None, node.dropped
    assert flooder.other_replies == 0
    if data_loss == 0:
        # No cut: Redis handed busd every message, and busd accounts for each.
        assert reconnects == 0, figures
        assert flooder.replies[b"0"] == 0, figures
        assert to_busd == published, figures
    else:
        # A cut happened: it must be reported (counter above, and the log).
        assert "redis data loss" in busd.log_text(), figures
    if dropped["subscriber_backlog"] > 0:
        assert "subscriber backlog full" in busd.log_text(), figures
    # Every message busd got is delivered, dropped with a reason, or malformed.
    accounted = delivered + sum(dropped.values()) + malformed
    assert accounted == int(m["socketbus_messages_received_total"]) + dropped["subscriber_backlog"], figures
    if data_loss == 0:
        assert accounted == published, figures
    # Malformed ones are counted as such (some may have gone in backlog drops, which do not look inside).
    assert flooder.malformed - dropped["subscriber_backlog"] <= malformed <= flooder.malformed, figures
    assert int(m['socketbus_messages_ignored_total{reason="no_local_room"}']) == 0
    # Delivered ones arrive once each, valid numbers only.
    assert all(n % MALFORMED_EVERY != MALFORMED_EVERY - 1 for n in node.emitter_seen_at)
    # Every DELIVER queued for the node reached it (node_backlog ones were never queued).
    assert node.deliver_count == int(m["socketbus_messages_delivered_total"]), figures
