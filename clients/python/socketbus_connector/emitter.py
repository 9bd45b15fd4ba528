"""Emitter / AsyncEmitter: publish events from application code the way
@socket.io/redis-emitter 5.1.0 does (same bytes on the same channel), and
ask socketbus for delivery confirmations (README "Delivery confirmations").

The application passes its own redis-py client (`redis.Redis` for Emitter,
`redis.asyncio.Redis` for AsyncEmitter). Operators are immutable: each
chained call returns a new one, so a base emitter can be shared.
"""

from __future__ import annotations

import math
import secrets
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import msgpack

Room = Union[str, int]


def _plain(value: Any) -> Any:
    """What notepack would see: JS numbers that are integral are ints."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 2**64:
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


def check_message_id(message_id: Any) -> str:
    if not isinstance(message_id, str) or not message_id:
        raise ValueError("a message id is a non-empty string")
    return message_id


def random_message_id() -> str:
    return "emitter-" + secrets.token_hex(8)


class BroadcastOptions:
    """nsp, rooms, except and flags of one operator (immutable)."""

    __slots__ = ("key", "nsp", "rooms", "except_rooms", "flags")

    def __init__(self, key: str, nsp: str = "/", rooms: Tuple[Room, ...] = (),
                 except_rooms: Tuple[Room, ...] = (), flags: Tuple[Tuple[str, Any], ...] = ()):
        self.key, self.nsp, self.rooms, self.except_rooms, self.flags = key, nsp, rooms, except_rooms, flags

    def replace(self, **changes) -> "BroadcastOptions":
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return BroadcastOptions(**values)

    @property
    def channel(self) -> str:
        channel = f"{self.key}#{self.nsp}#"
        if len(self.rooms) == 1:
            channel += f"{self.rooms[0]}#"
        return channel

    def payload(self, event: str, args: Iterable[Any], socketbus: Optional[Dict[str, Any]] = None) -> bytes:
        """[uid, packet, opts] in the emitter's key order; `socketbus` last, which
        stock adapters ignore."""
        opts: Dict[str, Any] = {"rooms": list(self.rooms), "flags": dict(self.flags), "except": list(self.except_rooms)}
        if socketbus is not None:
            opts["socketbus"] = socketbus
        packet = {"type": 2, "data": [event] + [_plain(a) for a in args], "nsp": self.nsp}
        return msgpack.packb(["emitter", packet, opts], use_bin_type=True)


def _rooms(values: Tuple[Any, ...]) -> Tuple[Room, ...]:
    rooms: List[Room] = []
    for value in values:
        items = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        for room in items:
            if not isinstance(room, (str, int)) or isinstance(room, bool):
                raise TypeError(f"a room is a str or an int, not {type(room).__name__}")
            if room not in rooms:
                rooms.append(room)
    return tuple(rooms)


class _Operator:
    """The chaining of @socket.io/redis-emitter."""

    def __init__(self, redis, options: BroadcastOptions, prefix: str):
        self.redis = redis
        self.options = options
        self.prefix = prefix

    def _with(self, **changes):
        raise NotImplementedError  # each publisher returns its own kind

    def of(self, nsp: str):
        if not isinstance(nsp, str):
            raise TypeError("a namespace is a str")
        return self._with(nsp=nsp if nsp.startswith("/") else "/" + nsp, rooms=(), except_rooms=(), flags=())

    def to(self, *rooms):
        return self._with(rooms=_rooms(self.options.rooms + _rooms(rooms)))

    def in_(self, *rooms):
        return self.to(*rooms)

    def except_(self, *rooms):
        return self._with(except_rooms=_rooms(self.options.except_rooms + _rooms(rooms)))

    def _flag(self, name: str, value: Any):
        flags = tuple((k, v) for k, v in self.options.flags if k != name) + ((name, value),)
        return self._with(flags=flags)

    @property
    def volatile(self):
        return self._flag("volatile", True)

    def compress(self, value: bool = True):
        return self._flag("compress", bool(value))

    def message(self, event: str, *args, socketbus: Optional[Dict[str, Any]] = None) -> Tuple[str, bytes]:
        """(channel, payload) that emit() publishes."""
        if not isinstance(event, str):
            raise TypeError("an event name is a str")
        return self.options.channel, self.options.payload(event, args, socketbus)

    def _confirmation_payload(self, event, args, left: float, message_id: str, stock_ids=()):
        """(channel, payload) of socketbus's broadcast asking for confirmations;
        sockets on servers without busd are left out (they get the acked broadcast)."""
        # busd times acks out a little before we stop waiting, so that a silent
        # client is reported as "timeout" rather than missing (busctl's margin).
        busd_timeout_ms = int((left - min(left / 5, 1.0)) * 1000)
        request = {"id": message_id, "ack": True, "timeout": max(busd_timeout_ms, 1)}
        extra = tuple(s for s in stock_ids if s not in self.options.except_rooms)
        operator = self._with(except_rooms=self.options.except_rooms + extra) if extra else self
        return operator.message(event, *args, socketbus=request)

    @staticmethod
    def _checked(timeout, message_id) -> str:
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        return check_message_id(message_id) if message_id is not None else random_message_id()

    @property
    def _owner_key(self) -> str:
        return f"{self.prefix}:owner"

    def _target_ids(self) -> List[str]:
        return [r for r in self.options.rooms if isinstance(r, str)]
