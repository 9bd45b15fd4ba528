"""Constants and small helpers shared by the chaos test's parts: where the
binaries are, the node's ids and rooms, polling, socket ids, a fail-fast
Redis client, and the registry as Redis holds it."""

from __future__ import annotations

import os
import random
import shutil
import socket
import sys
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))

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


# --- the registry in Redis -------------------------------------------------------


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
