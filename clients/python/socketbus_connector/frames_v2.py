"""The frames local protocol version 2 adds (docs/local-protocol-v2.md), in
the table-driven form of ``frames`` (which encodes and decodes them): each
class lists its fields in wire order (``LAYOUT``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar, List, Union

# A typed room: a string, or a number (int for integral values, as JSON and
# msgpack carry them; float otherwise).
Room = Union[str, int, float]

@dataclass(frozen=True)
class Namespace:
    TYPE: ClassVar[int] = 0x15
    LAYOUT: ClassVar[tuple] = (("namespace", "str"),)
    namespace: str


@dataclass(frozen=True)
class RoomsJoin:
    TYPE: ClassVar[int] = 0x16
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_id", "str"), ("rooms", "rooms"))
    namespace: str
    socket_id: str
    rooms: List[Room]


@dataclass(frozen=True)
class RoomsLeave:
    TYPE: ClassVar[int] = 0x17
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_id", "str"), ("rooms", "rooms"))
    namespace: str
    socket_id: str
    rooms: List[Room]


@dataclass(frozen=True)
class RoomsBroadcast:
    TYPE: ClassVar[int] = 0x18
    LAYOUT: ClassVar[tuple] = (
        ("namespace", "str"), ("flags", "u8"), ("rooms", "rooms"), ("except_rooms", "rooms"),
        ("packet", "blob"), ("attachments", "blobs"))
    namespace: str
    flags: int
    rooms: List[Room]
    except_rooms: List[Room]
    packet: bytes
    attachments: List[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Delivered:
    TYPE: ClassVar[int] = 0x19
    LAYOUT: ClassVar[tuple] = (("ack_id", "u64"), ("namespace", "str"), ("socket_ids", "strs"))
    ack_id: int
    namespace: str
    socket_ids: List[str]


@dataclass(frozen=True)
class Answer:
    TYPE: ClassVar[int] = 0x1A
    LAYOUT: ClassVar[tuple] = (("request", "u32"), ("status", "u8"), ("body", "json"))
    request: int
    status: int  # 0 answered, 1 the node cannot answer
    body: bytes


@dataclass(frozen=True)
class ClusterRequest:
    TYPE: ClassVar[int] = 0x1B
    LAYOUT: ClassVar[tuple] = (
        ("request", "u32"), ("kind", "u8"), ("namespace", "str"), ("timeout_ms", "u32"), ("body", "json"))
    request: int
    kind: int  # ClusterKind
    namespace: str
    timeout_ms: int
    body: bytes


@dataclass(frozen=True)
class BroadcastWithAck:
    TYPE: ClassVar[int] = 0x1C
    LAYOUT: ClassVar[tuple] = (
        ("request", "u32"), ("namespace", "str"), ("flags", "u8"), ("rooms", "rooms"),
        ("except_rooms", "rooms"), ("timeout_ms", "u32"), ("packet", "blob"), ("attachments", "blobs"))
    request: int
    namespace: str
    flags: int
    rooms: List[Room]
    except_rooms: List[Room]
    timeout_ms: int
    packet: bytes
    attachments: List[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class DeliverToRooms:
    TYPE: ClassVar[int] = 0x26
    LAYOUT: ClassVar[tuple] = (
        ("ack_id", "u64"), ("flags", "u8"), ("namespace", "str"), ("rooms", "rooms"),
        ("except_rooms", "rooms"), ("packet", "blob"), ("attachments", "blobs"))
    ack_id: int  # 0 = none
    flags: int
    namespace: str
    rooms: List[Room]
    except_rooms: List[Room]
    packet: bytes
    attachments: List[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Apply:
    TYPE: ClassVar[int] = 0x27
    LAYOUT: ClassVar[tuple] = (
        ("op", "u8"), ("namespace", "str"), ("rooms", "rooms"), ("except_rooms", "rooms"),
        ("targets", "rooms"), ("close", "bool"))
    op: int  # ApplyOp
    namespace: str
    rooms: List[Room]
    except_rooms: List[Room]
    targets: List[Room]
    close: bool


@dataclass(frozen=True)
class Question:
    TYPE: ClassVar[int] = 0x28
    LAYOUT: ClassVar[tuple] = (("request", "u32"), ("kind", "u8"), ("namespace", "str"), ("body", "json"))
    request: int
    kind: int  # QuestionKind
    namespace: str
    body: bytes


@dataclass(frozen=True)
class ClusterReply:
    TYPE: ClassVar[int] = 0x29
    LAYOUT: ClassVar[tuple] = (("request", "u32"), ("status", "u8"), ("body", "json"))
    request: int
    status: int  # ReplyStatus
    body: bytes


@dataclass(frozen=True)
class AckCount:
    TYPE: ClassVar[int] = 0x2A
    LAYOUT: ClassVar[tuple] = (("request", "u32"), ("client_count", "u32"))
    request: int
    client_count: int


@dataclass(frozen=True)
class AckArgument:
    TYPE: ClassVar[int] = 0x2B
    LAYOUT: ClassVar[tuple] = (("request", "u32"), ("argument", "json"))
    request: int
    argument: bytes  # the client's first ack argument; empty = undefined


class ApplyOp(enum.IntEnum):
    JOIN = 1
    LEAVE = 2
    DISCONNECT = 3


class QuestionKind(enum.IntEnum):
    FETCH = 1
    SERVER_SIDE_EMIT = 2
    CUSTOM = 3


class AnswerStatus(enum.IntEnum):
    ANSWERED = 0
    CANNOT_ANSWER = 1


class ClusterKind(enum.IntEnum):
    SERVER_COUNT = 1
    FETCH_SOCKETS = 2
    ALL_ROOMS = 3
    ADD_SOCKETS = 4
    DEL_SOCKETS = 5
    DISCONNECT_SOCKETS = 6
    SERVER_SIDE_EMIT = 7
    SERVER_SIDE_EMIT_WITH_ACK = 8
    # Not an adapter call: enter_room waits until busd has a new room's channel subscribed.
    ROOMS_SUBSCRIBED = 9


class ReplyStatus(enum.IntEnum):
    COMPLETE = 0
    TIMED_OUT = 1
    FAILED = 2
