"""One emit_with_confirmation, without I/O: which channels to subscribe,
what to publish, and what each message received means. The sync and asyncio
publishers run the same plan over their redis-py clients."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Set

from .confirmations import DeliveryReport, DeliveryWait, Outcome, acks_key, parse_record
from .emitter import _plain
from .stock import (SocketLookup, StockReport, broadcast_request, parse_response, random_id, request_channel,
                    response_channels, sockets_request)


def _numsub(reply) -> int:
    """PUBSUB NUMSUB's count for one channel."""
    try:
        return int(reply[0][1])
    except (IndexError, TypeError, ValueError):
        raise ValueError(f"unexpected reply to PUBSUB NUMSUB: {reply!r}") from None


class _Plan:
    def __init__(self, operator, event, args, timeout, message_id):
        if not isinstance(event, str):
            raise TypeError("an event name is a str")
        self.operator = operator
        self.options = operator.options
        self.event, self.args = event, args
        self.message_id = operator._checked(timeout, message_id)
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.acks_channel = acks_key(operator.prefix, self.message_id)
        self.request_channel = request_channel(self.options.key, self.options.nsp)
        self.uid = random_id()
        self.targets = operator._target_ids()
        self.servers = 0
        self.stock_ids: List[str] = []
        self.report = DeliveryReport(message_id=self.message_id)
        self.wait: Optional[DeliveryWait] = None
        self.socketbus_part = True
        self.published_at = 0.0

    def lookup_wanted(self, known: List[str]) -> bool:
        """Whether some target may be on a server without busd: the whole
        namespace, a room, or a socket id the registry does not know."""
        return not self.options.rooms or len(known) < len(self.options.rooms)

    @property
    def channels(self) -> List[str]:
        extra = response_channels(self.options.key, self.options.nsp, self.uid) if self.servers else []
        return [self.acks_channel] + extra

    @property
    def lookup_time(self) -> float:
        # Servers answer in milliseconds; the lookup gets a share of the time (busctl's rule).
        return min(self.timeout / 3, 2.0)

    def lookup(self) -> SocketLookup:
        return SocketLookup(self.options.rooms, self.options.except_rooms, self.servers)

    def lookup_requests(self, lookup: SocketLookup):
        for query in lookup.queries:
            yield self.request_channel, sockets_request(self.uid, query["id"], query["rooms"])

    def found(self, lookup: SocketLookup, registered: Set[str]) -> None:
        self.report.lookup_complete = lookup.complete
        self.stock_ids = [sid for sid in lookup.ids if sid not in registered]
        if self.stock_ids:
            self.report.stock = StockReport(random_id(), self.stock_ids, self.servers)

    def publications(self, known: List[str]):
        """The acked broadcast to stock targets, then socketbus's broadcast
        (to disjoint sockets: no client gets the event twice)."""
        rooms = self.options.rooms
        stock = set(self.stock_ids)
        left = max(self.deadline - time.monotonic(), 0.01)
        self.socketbus_part = not stock or not rooms or not set(rooms) <= stock
        has_rooms = not rooms or any(r not in known and r not in stock for r in rooms)
        self.wait = DeliveryWait(self.message_id, known if self.socketbus_part else [], has_rooms)
        self.wait.report = self.report
        for socket_id in (known if self.socketbus_part else []):
            if socket_id not in self.report.expected:
                self.report.expected.append(socket_id)
        if self.report.stock is not None:
            flags: Dict[str, Any] = {}
            if dict(self.options.flags).get("volatile"):
                flags["volatile"] = True
            flags["timeout"] = int(left * 1000)
            data = [self.event] + [_plain(a) for a in self.args]
            yield self.request_channel, broadcast_request(self.uid, self.report.stock.request_id, data,
                                                          self.options.nsp, self.stock_ids, flags)
        self.published_at = time.monotonic()
        if self.socketbus_part:
            channel, payload = self.operator._confirmation_payload(self.event, self.args, left, self.message_id,
                                                                   self.stock_ids)
            self.report.channel = channel
            yield channel, payload

    def response(self, message) -> Optional[Dict[str, Any]]:
        if not isinstance(message, dict) or message.get("type") != "message":
            return None
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", "replace")
        if channel == self.acks_channel:
            return None
        return parse_response(message.get("data"))

    def take(self, message) -> Optional[Outcome]:
        """A message of the subscription: a record, a stock answer, or junk (skipped)."""
        if not isinstance(message, dict) or message.get("type") != "message":
            return None
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", "replace")
        if channel == self.acks_channel:
            record = parse_record(message.get("data"), self.message_id)
            return self.wait.take(record) if record is not None and self.wait is not None else None
        if self.report.stock is not None:
            response = parse_response(message.get("data"))
            if response is not None:
                self.report.stock.take(response)
        return None

    def settled(self) -> bool:
        return self.report.settled(self.wait, self.socketbus_part, self.published_at, time.monotonic())
