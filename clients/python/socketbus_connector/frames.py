"""The local protocol's frames (docs/local-protocol.md), encoded and decoded
with ``struct`` only: no I/O here, so the codec is testable byte by byte.

Every frame is ``length:u32be type:u8 body``; ``length`` counts the type byte
and the body (1 ... 16 MiB). A string is ``u16be`` length + UTF-8, a blob
``u32be`` length + bytes, a list ``u32be`` count + items. Each frame class
below lists its fields in wire order (``LAYOUT``); one table-driven encoder
and decoder serve all of them, so a layout is written down exactly once.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass, field
from typing import ClassVar, Iterator, List, Optional, Tuple

# The highest version this connector speaks (HELLO asks for it; busd's
# WELCOME answers min(2, asked), so a v1 busd keeps working).
VERSION = 2
VERSIONS = (1, 2)
MAX_LENGTH = 16 << 20  # largest `length` (type byte + body)
MAX_STRING = 0xFFFF

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_F64 = struct.Struct(">d")

# Room tags of version 2 (a room keeps its type: numbers stay numbers).
ROOM_STRING = 0x00
ROOM_NUMBER = 0x01


class ErrorCode(enum.IntEnum):
    MALFORMED_FRAME = 1
    UNSUPPORTED_VERSION = 2
    UNEXPECTED_FRAME = 3
    FRAME_TOO_LARGE = 4
    SHUTTING_DOWN = 5
    # busd could not use one well-formed frame (a BROADCAST packet it cannot
    # decode, say): that frame was skipped, the connection stays.
    UNUSABLE_CONTENT = 6
    TOO_MANY_CONNECTIONS = 7
    HANDSHAKE_TIMEOUT = 8


class AckStatus(enum.IntEnum):
    DELIVERED = 1
    TIMEOUT = 2
    DISCONNECTED = 3


class ProtocolError(Exception):
    """A frame that breaks the protocol; ``code`` is what an ERROR frame
    answering it carries."""

    def __init__(self, code: ErrorCode, message: str):
        super().__init__(f"{code.name.lower().replace('_', ' ')}: {message}")
        self.code = code
        self.message = message


# Flags byte of DELIVER and BROADCAST: bit 0 volatile, bit 1 compress given,
# bit 2 compress value.
def flags_byte(volatile: bool = False, compress: Optional[bool] = None) -> int:
    return (1 if volatile else 0) | (0 if compress is None else 2) | (4 if compress else 0)


def parse_flags(byte: int) -> Tuple[bool, Optional[bool]]:
    """(volatile, compress); compress is None when not given."""
    return bool(byte & 1), (bool(byte & 4) if byte & 2 else None)


# --- frames ---------------------------------------------------------------
# Field kinds: u8 u16 u32 u64 bool str strs blob blobs, and from version 2
# rooms (typed rooms: a str is tag 0x00, an int or float tag 0x01 f64) and
# json (a blob holding UTF-8 JSON; bytes here, the caller parses it).


@dataclass(frozen=True)
class Hello:
    TYPE: ClassVar[int] = 0x01
    LAYOUT: ClassVar[tuple] = (("version", "u16"), ("node", "str"), ("pid", "u32"))
    version: int
    node: str
    pid: int


@dataclass(frozen=True)
class Welcome:
    TYPE: ClassVar[int] = 0x02
    LAYOUT: ClassVar[tuple] = (
        ("version", "u16"), ("uid", "str"), ("node_id", "str"),
        ("ack_id_base", "u64"), ("ack_timeout_ms", "u32"))
    version: int
    uid: str
    node_id: str
    ack_id_base: int
    ack_timeout_ms: int


@dataclass(frozen=True)
class Error:
    TYPE: ClassVar[int] = 0x03
    LAYOUT: ClassVar[tuple] = (("code", "u16"), ("message", "str"))
    code: int
    message: str


@dataclass(frozen=True)
class Ping:
    TYPE: ClassVar[int] = 0x04
    LAYOUT: ClassVar[tuple] = (("token", "u64"),)
    token: int


@dataclass(frozen=True)
class Pong:
    TYPE: ClassVar[int] = 0x05
    LAYOUT: ClassVar[tuple] = (("token", "u64"),)
    token: int


@dataclass(frozen=True)
class SocketConnect:
    TYPE: ClassVar[int] = 0x10
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_id", "str"), ("connected_at", "u64"))
    namespace: str
    socket_id: str
    connected_at: int  # ms since the epoch


@dataclass(frozen=True)
class SocketDisconnect:
    TYPE: ClassVar[int] = 0x11
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_id", "str"), ("reason", "str"))
    namespace: str
    socket_id: str
    reason: str


@dataclass(frozen=True)
class SocketJoin:
    TYPE: ClassVar[int] = 0x12
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_id", "str"), ("rooms", "strs"))
    namespace: str
    socket_id: str
    rooms: List[str]


@dataclass(frozen=True)
class SocketLeave:
    TYPE: ClassVar[int] = 0x13
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_id", "str"), ("rooms", "strs"))
    namespace: str
    socket_id: str
    rooms: List[str]


@dataclass(frozen=True)
class Broadcast:
    TYPE: ClassVar[int] = 0x14
    LAYOUT: ClassVar[tuple] = (
        ("namespace", "str"), ("flags", "u8"), ("rooms", "strs"), ("except_rooms", "strs"),
        ("packet", "blob"), ("attachments", "blobs"))
    namespace: str
    flags: int
    rooms: List[str]
    except_rooms: List[str]
    packet: bytes
    attachments: List[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Deliver:
    TYPE: ClassVar[int] = 0x20
    LAYOUT: ClassVar[tuple] = (
        ("ack_id", "u64"), ("flags", "u8"), ("namespace", "str"), ("socket_ids", "strs"),
        ("packet", "blob"), ("attachments", "blobs"))
    ack_id: int  # 0 = none
    flags: int
    namespace: str
    socket_ids: List[str]
    packet: bytes
    attachments: List[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Acked:
    TYPE: ClassVar[int] = 0x21
    LAYOUT: ClassVar[tuple] = (("ack_id", "u64"), ("socket_id", "str"), ("status", "u8"), ("arguments", "blob"))
    ack_id: int
    socket_id: str
    status: int  # AckStatus
    arguments: bytes  # JSON array


@dataclass(frozen=True)
class SocketsJoin:
    TYPE: ClassVar[int] = 0x22
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_ids", "strs"), ("rooms", "strs"))
    namespace: str
    socket_ids: List[str]
    rooms: List[str]


@dataclass(frozen=True)
class SocketsLeave:
    TYPE: ClassVar[int] = 0x23
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_ids", "strs"), ("rooms", "strs"))
    namespace: str
    socket_ids: List[str]
    rooms: List[str]


@dataclass(frozen=True)
class SocketsDisconnect:
    TYPE: ClassVar[int] = 0x24
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("socket_ids", "strs"), ("close", "bool"))
    namespace: str
    socket_ids: List[str]
    close: bool


@dataclass(frozen=True)
class ServerSideEmit:
    TYPE: ClassVar[int] = 0x25
    LAYOUT: ClassVar[tuple] = (("namespace", "str"), ("data", "blob"))
    namespace: str
    data: bytes  # JSON array [event, ...args]



from .frames_v2 import (  # noqa: F401  (re-exported: frames.X names every frame)
    Room,
    Namespace,
    RoomsJoin,
    RoomsLeave,
    RoomsBroadcast,
    Delivered,
    Answer,
    ClusterRequest,
    BroadcastWithAck,
    DeliverToRooms,
    Apply,
    Question,
    ClusterReply,
    AckCount,
    AckArgument,
    ApplyOp,
    QuestionKind,
    AnswerStatus,
    ClusterKind,
    ReplyStatus,
)


# Frames only a version 2 session carries.
V2_FRAMES = (Namespace, RoomsJoin, RoomsLeave, RoomsBroadcast, Delivered, Answer, ClusterRequest,
             BroadcastWithAck, DeliverToRooms, Apply, Question, ClusterReply, AckCount, AckArgument)


FRAME_TYPES = {cls.TYPE: cls for cls in (
    Hello, Welcome, Error, Ping, Pong, SocketConnect, SocketDisconnect, SocketJoin,
    SocketLeave, Broadcast, Deliver, Acked, SocketsJoin, SocketsLeave, SocketsDisconnect,
    ServerSideEmit) + V2_FRAMES}

_NAMES = {
    Hello: "HELLO", Welcome: "WELCOME", Error: "ERROR", Ping: "PING", Pong: "PONG",
    SocketConnect: "SOCKET_CONNECT", SocketDisconnect: "SOCKET_DISCONNECT",
    SocketJoin: "SOCKET_JOIN", SocketLeave: "SOCKET_LEAVE", Broadcast: "BROADCAST",
    Deliver: "DELIVER", Acked: "ACKED", SocketsJoin: "SOCKETS_JOIN",
    SocketsLeave: "SOCKETS_LEAVE", SocketsDisconnect: "SOCKETS_DISCONNECT",
    ServerSideEmit: "SERVER_SIDE_EMIT",
    Namespace: "NAMESPACE", RoomsJoin: "ROOMS_JOIN", RoomsLeave: "ROOMS_LEAVE",
    RoomsBroadcast: "ROOMS_BROADCAST", Delivered: "DELIVERED", Answer: "ANSWER",
    ClusterRequest: "CLUSTER_REQUEST", BroadcastWithAck: "BROADCAST_WITH_ACK",
    DeliverToRooms: "DELIVER_TO_ROOMS", Apply: "APPLY", Question: "QUESTION",
    ClusterReply: "CLUSTER_REPLY", AckCount: "ACK_COUNT", AckArgument: "ACK_ARGUMENT",
}


def frame_name(frame_or_class) -> str:
    """The frame type's name as the protocol document writes it."""
    cls = frame_or_class if isinstance(frame_or_class, type) else type(frame_or_class)
    return _NAMES[cls]


def to_v1(frame):
    """A ROOMS_BROADCAST as the BROADCAST a v1 busd takes (rooms as text)."""
    return Broadcast(frame.namespace, frame.flags, [str(r) for r in frame.rooms],
                     [str(r) for r in frame.except_rooms], frame.packet, list(frame.attachments))


# --- encoding -------------------------------------------------------------

def _put_str(out: bytearray, value: str, what: str) -> None:
    raw = value.encode("utf-8")
    if len(raw) > MAX_STRING:
        raise ValueError(f"{what}: {len(raw)} UTF-8 bytes, a string holds at most {MAX_STRING}")
    out += _U16.pack(len(raw))
    out += raw


def _put_blob(out: bytearray, value, what: str) -> None:
    if isinstance(value, str):  # a packet string handed over as text
        value = value.encode("utf-8")
    out += _U32.pack(len(value))
    out += value


def _put_room(out: bytearray, value, what: str) -> None:
    if isinstance(value, str):
        out.append(ROOM_STRING)
        _put_str(out, value, what)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if number != value or not math.isfinite(number):  # NaN, inf, an int beyond 2^53
            raise ValueError(f"{what}: {value} is not a finite number an f64 holds exactly")
        out.append(ROOM_NUMBER)
        out += _F64.pack(number)
    else:
        raise ValueError(f"{what}: a room is a str or a number, not {type(value).__name__}")


def _put(out: bytearray, kind: str, value, what: str) -> None:
    try:
        if kind == "u8":
            out.append(value)
        elif kind == "bool":
            out.append(1 if value else 0)
        elif kind == "u16":
            out += _U16.pack(value)
        elif kind == "u32":
            out += _U32.pack(value)
        elif kind == "u64":
            out += _U64.pack(value)
        elif kind == "str":
            _put_str(out, value, what)
        elif kind == "strs":
            out += _U32.pack(len(value))
            for item in value:
                _put_str(out, item, what)
        elif kind == "blob":
            _put_blob(out, value, what)
        elif kind == "blobs":
            out += _U32.pack(len(value))
            for item in value:
                _put_blob(out, item, what)
        elif kind == "rooms":
            out += _U32.pack(len(value))
            for item in value:
                _put_room(out, item, what)
        elif kind == "json":
            _put_blob(out, value, what)
        else:  # pragma: no cover - a typo in a LAYOUT
            raise AssertionError(kind)
    except (struct.error, ValueError, TypeError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(what):
            raise
        raise ValueError(f"{what}: cannot encode {value!r} as {kind}: {exc}") from None


def encode(frame) -> bytes:
    """The whole frame, length prefix included."""
    name = frame_name(frame)
    out = bytearray(5)
    out[4] = frame.TYPE
    for attr, kind in frame.LAYOUT:
        _put(out, kind, getattr(frame, attr), f"{name}.{attr}")
    length = len(out) - 4
    if length > MAX_LENGTH:
        raise ValueError(f"{name}: frame length {length} is above {MAX_LENGTH}")
    _U32.pack_into(out, 0, length)
    return bytes(out)


# --- decoding -------------------------------------------------------------

class _Reader:
    """Reads one frame's body; every short read is a malformed frame."""

    __slots__ = ("view", "pos", "name")

    def __init__(self, view: memoryview, name: str):
        self.view = view
        self.pos = 0
        self.name = name

    @property
    def remaining(self) -> int:
        return len(self.view) - self.pos

    def take(self, n: int, what: str) -> memoryview:
        if n > self.remaining:
            raise ProtocolError(
                ErrorCode.MALFORMED_FRAME,
                f"{self.name}.{what} needs {n} bytes at body offset {self.pos}, {self.remaining} left")
        start = self.pos
        self.pos += n
        return self.view[start:self.pos]

    def string(self, what: str) -> str:
        n = _U16.unpack(self.take(2, what))[0]
        raw = self.take(n, what)
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"{self.name}.{what} is not valid UTF-8") from None

    def blob(self, what: str) -> bytes:
        n = _U32.unpack(self.take(4, what))[0]
        return bytes(self.take(n, what))

    def room(self, what: str):
        tag = self.take(1, what)[0]
        if tag == ROOM_STRING:
            return self.string(what)
        if tag == ROOM_NUMBER:
            number = _F64.unpack(self.take(8, what))[0]
            if not math.isfinite(number):
                raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"{self.name}.{what} has a non-finite numeric room")
            # 123.0 -> 123: the room a Python app would name with an int.
            return int(number) if number.is_integer() else number
        raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"{self.name}.{what} has room tag 0x{tag:02x}")

    def count(self, what: str, item_size: int) -> int:
        n = _U32.unpack(self.take(4, what))[0]
        # Each item takes at least its length prefix: refuse a count the
        # frame cannot hold before looping over it.
        if n > self.remaining // item_size:
            raise ProtocolError(
                ErrorCode.MALFORMED_FRAME,
                f"{self.name}.{what} announces {n} items, more than the frame holds")
        return n

    def read(self, kind: str, what: str):
        if kind == "u8":
            return self.take(1, what)[0]
        if kind == "bool":
            return self.take(1, what)[0] != 0
        if kind == "u16":
            return _U16.unpack(self.take(2, what))[0]
        if kind == "u32":
            return _U32.unpack(self.take(4, what))[0]
        if kind == "u64":
            return _U64.unpack(self.take(8, what))[0]
        if kind == "str":
            return self.string(what)
        if kind == "strs":
            return [self.string(what) for _ in range(self.count(what, 2))]
        if kind == "blob":
            return self.blob(what)
        if kind == "blobs":
            return [self.blob(what) for _ in range(self.count(what, 4))]
        if kind == "rooms":
            # The smallest room is tag + an empty string: 3 bytes.
            return [self.room(what) for _ in range(self.count(what, 3))]
        if kind == "json":
            return self.blob(what)
        raise AssertionError(kind)  # pragma: no cover


def decode_body(body) -> object:
    """One frame from its type byte + body (the bytes after the length)."""
    view = memoryview(body)
    if len(view) == 0:
        raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, "frame length 0")
    cls = FRAME_TYPES.get(view[0])
    if cls is None:
        raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"unknown frame type 0x{view[0]:02x}")
    reader = _Reader(view[1:], _NAMES[cls])
    values = [reader.read(kind, attr) for attr, kind in cls.LAYOUT]
    if reader.remaining:
        raise ProtocolError(
            ErrorCode.MALFORMED_FRAME, f"{reader.remaining} bytes left after the body of {_NAMES[cls]}")
    frame = cls(*values)
    if cls is Acked and frame.status not in (1, 2, 3):
        raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"ACKED.status {frame.status} is not 1, 2 or 3")
    if cls is Apply and frame.op not in (1, 2, 3):
        raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"APPLY.op {frame.op} is not 1, 2 or 3")
    return frame


def decode(data) -> object:
    """Exactly one whole frame (length prefix included)."""
    decoder = FrameDecoder()
    decoder.feed(data)
    frame = decoder.next_frame()
    if frame is None:
        raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"incomplete frame ({len(data)} bytes)")
    if decoder.buffered:
        raise ProtocolError(ErrorCode.MALFORMED_FRAME, f"{decoder.buffered} bytes after the frame")
    return frame


class FrameDecoder:
    """Cuts a byte stream into frames. Feed it whatever a read returned;
    partial frames wait for the rest. The length prefix is checked as soon
    as it is complete, so a lying prefix cannot make it buffer more than
    16 MiB."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._start = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded."""
        return len(self._buf) - self._start

    def feed(self, data) -> None:
        if self._start and self._start >= len(self._buf) // 2:
            del self._buf[:self._start]
            self._start = 0
        self._buf += data

    def next_frame(self):
        """The next complete frame, or None when more bytes are needed."""
        start = self._start
        if len(self._buf) - start < 4:
            return None
        length = _U32.unpack_from(self._buf, start)[0]
        if not 1 <= length <= MAX_LENGTH:
            raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"frame length {length} is outside 1...{MAX_LENGTH}")
        end = start + 4 + length
        if len(self._buf) < end:
            return None
        self._start = end
        # Slicing copies: no view keeps the buffer pinned (feed resizes it).
        return decode_body(self._buf[start + 4:end])

    def __iter__(self) -> Iterator[object]:
        while True:
            frame = self.next_frame()
            if frame is None:
                return
            yield frame
