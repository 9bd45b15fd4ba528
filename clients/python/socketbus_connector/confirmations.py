"""Delivery confirmation records (README "Delivery confirmations") and what
a publisher waiting for them knows: the same rules as busctl's DeliveryWait.

Records arrive from Redis, so anything malformed is skipped, never raised.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

STATUSES = ("delivered", "timeout", "disconnected")
# After the last `dispatched` record of a room broadcast, how long to wait for
# another node's before calling the set of target sockets complete (busctl's value).
QUIET_PERIOD = 0.25


def acks_key(prefix: str, message_id: str) -> str:
    """The channel the records are published on, and the list they are kept in."""
    return f"{prefix}:acks:{message_id}"


def glob_escaped(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def parse_record(data: Any, message_id: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """A record as a dict, or None when it is not one (or is for another id)."""
    try:
        if isinstance(data, (bytes, bytearray)):
            data = bytes(data).decode("utf-8")
        record = json.loads(data)
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("messageId"), str):
        return None
    if message_id is not None and record["messageId"] != message_id:
        return None
    if not isinstance(record.get("node"), str):
        return None
    kind = record.get("type")
    if kind == "dispatched":
        sockets = record.get("sockets")
        if not isinstance(sockets, list) or not all(isinstance(s, str) for s in sockets):
            return None
        return record
    if kind == "confirmation":
        if not isinstance(record.get("socketId"), str) or record.get("status") not in STATUSES:
            return None
        # busd writes "args": null for timeout / disconnected.
        if record.get("args") is not None and not isinstance(record["args"], list):
            return None
        return record
    return None


@dataclass(frozen=True)
class Outcome:
    """How one target socket settled."""

    socket_id: str
    status: str  # "delivered", "timeout" or "disconnected"
    node: str
    namespace: Optional[str] = None
    latency_ms: Optional[float] = None
    args: Optional[List[Any]] = None  # the client's ack arguments (delivered only)

    @classmethod
    def from_record(cls, record: Dict[str, Any]) -> "Outcome":
        latency = record.get("latencyMs")
        namespace = record.get("namespace")
        return cls(
            socket_id=record["socketId"],
            status=record["status"],
            node=record["node"],
            namespace=namespace if isinstance(namespace, str) else None,
            latency_ms=latency if isinstance(latency, (int, float)) and not isinstance(latency, bool) else None,
            args=record.get("args"),
        )


@dataclass
class DeliveryReport:
    """The outcome of emit_with_confirmation."""

    message_id: str
    expected: List[str] = field(default_factory=list)  # target sockets, in the order they became known
    outcomes: Dict[str, Outcome] = field(default_factory=dict)
    nodes: List[str] = field(default_factory=list)  # busd nodes that reported dispatching
    channel: str = ""  # "" when socketbus's broadcast was not sent (every target on a stock node)
    receivers: int = 0  # PUBLISH's answer: subscribers of the broadcast channel
    stock: Optional[Any] = None  # a StockReport when targets were on servers without busd
    lookup_complete: bool = True  # every server counted answered the target lookup

    @property
    def unanswered(self) -> List[str]:
        """Target sockets without an outcome when the wait ended."""
        return [s for s in self.expected if s not in self.outcomes]

    @property
    def delivered(self) -> List[str]:
        return [s for s in self.expected if s in self.outcomes and self.outcomes[s].status == "delivered"]

    @property
    def all_delivered(self) -> bool:
        """There was a target and every one acked (on stock nodes: every counted
        server reported and each of its clients acked)."""
        stock_clients = self.stock.clients if self.stock is not None else 0
        if not self.expected and not stock_clients:
            return False
        stock_ok = self.stock is None or self.stock.is_complete
        return len(self.delivered) == len(self.expected) and stock_ok and self.lookup_complete

    def settled(self, wait: "DeliveryWait", socketbus_part: bool, published_at: float, now: float) -> bool:
        """The wait is over: busd-node targets settled and the stock part complete."""
        if socketbus_part and not wait.is_complete(now):
            # With a stock part, busd nodes may have had nobody: a quiet period says so.
            if not (self.stock is not None and not self.expected and not self.nodes
                    and now - published_at >= QUIET_PERIOD):
                return False
        return self.stock is None or self.stock.is_complete


class DeliveryWait:
    """Feeds on records and the clock; says when the wait is over."""

    def __init__(self, message_id: str, known_sockets: List[str], has_room_targets: bool,
                 quiet_period: float = QUIET_PERIOD):
        self.report = DeliveryReport(message_id=message_id)
        self.has_room_targets = has_room_targets
        self.quiet_period = quiet_period
        self._last_dispatch: Optional[float] = None
        for socket_id in known_sockets:
            self._expect(socket_id)

    def _expect(self, socket_id: str) -> None:
        if socket_id not in self.report.expected:
            self.report.expected.append(socket_id)

    def take(self, record: Dict[str, Any], now: Optional[float] = None) -> Optional[Outcome]:
        """Takes a parsed record; returns the outcome when it settled a socket first."""
        now = time.monotonic() if now is None else now
        if record["type"] == "dispatched":
            if record["node"] not in self.report.nodes:
                self.report.nodes.append(record["node"])
            self._last_dispatch = now
            for socket_id in record["sockets"]:
                self._expect(socket_id)
            return None
        socket_id = record["socketId"]
        if socket_id in self.report.outcomes:
            return None
        self._expect(socket_id)
        outcome = Outcome.from_record(record)
        self.report.outcomes[socket_id] = outcome
        return outcome

    def is_complete(self, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        expected = self.report.expected
        if not expected or any(s not in self.report.outcomes for s in expected):
            return False
        if not self.has_room_targets:
            return True
        return self._last_dispatch is not None and now - self._last_dispatch >= self.quiet_period
