"""The frame codec against docs/local-protocol.md and itself."""

import re
import struct
from pathlib import Path

import pytest

from socketbus_connector import frames as f
from socketbus_connector.frames import ErrorCode, ProtocolError

DOC = Path(__file__).resolve().parents[3] / "docs" / "local-protocol.md"
SID = "AgUEon6wzXtHqqioAAAB"

# The frame each "#### NAME example" dump in the document shows.
DOC_FRAMES = {
    "HELLO": f.Hello(1, "web-1", 4242),
    "WELCOME": f.Welcome(1, "osO7f9", "web-1", 4503599627370496, 30000),
    "ERROR": f.Error(1, "bad frame"),
    "PING": f.Ping(7),
    "PONG": f.Pong(7),
    "SOCKET_CONNECT": f.SocketConnect("/", SID, 1795237379219),
    "SOCKET_DISCONNECT": f.SocketDisconnect("/", SID, "transport close"),
    "SOCKET_JOIN": f.SocketJoin("/", SID, ["roomA"]),
    "SOCKET_LEAVE": f.SocketLeave("/", SID, ["roomA"]),
    "BROADCAST": f.Broadcast("/", 1, ["roomA"], [], b'2["news",1]', []),
    "DELIVER": f.Deliver(
        4503599627370497, 2, "/", [SID],
        b'51-4503599627370497["bin",{"_placeholder":true,"num":0}]', [bytes([0, 1, 2, 0xFE, 0xFF])]),
    "ACKED": f.Acked(4503599627370497, SID, 1, b'["ok"]'),
    "SOCKETS_JOIN": f.SocketsJoin("/", [SID], ["joinedRemote"]),
    "SOCKETS_LEAVE": f.SocketsLeave("/", [SID], ["joinedRemote"]),
    "SOCKETS_DISCONNECT": f.SocketsDisconnect("/", [SID], True),
    "SERVER_SIDE_EMIT": f.ServerSideEmit("/", b'["hello",2]'),
}

# More values per type: empty lists, several items, non-ASCII, extremes.
EXTRA_FRAMES = [
    f.Hello(65535, "", 0),
    f.Welcome(1, "", "n\u00e9-\U0001F600", 2**64 - 1, 2**32 - 1),
    f.Error(5, "shutting down"),
    f.Ping(0), f.Pong(2**64 - 1),
    f.SocketConnect("/chat", "x" * 65535, 0),
    f.SocketDisconnect("/", SID, ""),
    f.SocketJoin("/", SID, []),
    f.SocketLeave("/admin", SID, ["a", "", "r\u00f6\u00f6m"]),
    f.Broadcast("/chat", 7, [], ["s1", "s2"], b"", [b"", b"\x00" * 300]),
    f.Deliver(0, 0, "/", [], b'2["x"]', []),
    f.Deliver(1, 5, "/n", ["a", "b", "c"], b"5" * 70000, [b"\xff"] * 3),
    f.Acked(2**53 - 1, SID, 3, b"[]"),
    f.SocketsJoin("/", [], []),
    f.SocketsLeave("/", ["a", "b"], ["r1", "r2"]),
    f.SocketsDisconnect("/", ["a"], False),
    f.ServerSideEmit("/", b""),
]

# Version 2 frames (docs/local-protocol-v2.md), one or more per type.
V2_SAMPLES = [
    f.Namespace("/"),
    f.Namespace("/chat"),
    f.RoomsJoin("/", SID, [SID, "roomA", 123, 1.5, ""]),
    f.RoomsLeave("/", SID, []),
    f.RoomsBroadcast("/", 1, ["roomA", 123], [SID], b'2["news",1]', []),
    f.RoomsBroadcast("/chat", 0, [], [], b'51-/chat,["b",{"_placeholder":true,"num":0}]', [b"\x00\xff"]),
    f.Delivered(4503599627370497, "/", [SID, "other"]),
    f.Delivered(1, "/", []),
    f.Answer(7, 0, b'[{"id":"x"}]'),
    f.Answer(2**32 - 1, 1, b""),
    f.ClusterRequest(1, 1, "/", 5000, b""),
    f.ClusterRequest(9, 4, "/", 0, b'{"opts":{"rooms":[1],"except":[]},"rooms":["r"]}'),
    f.BroadcastWithAck(3, "/", 0, ["r", 2**53], [], 2**32 - 1, b'2["x",1]', [b"ab"]),
    f.DeliverToRooms(0, 0, "/", [], [], b'2["x"]', []),
    f.DeliverToRooms(4503599627370498, 7, "/", [-3, "a"], [SID], b'2["x"]', [b"", b"z"]),
    f.Apply(1, "/", ["a"], [], ["b", 5], False),
    f.Apply(3, "/", [], [SID], [], True),
    f.Question(12, 1, "/", b'{"rooms":[],"except":[]}'),
    f.ClusterReply(12, 1, b'{"sockets":[]}'),
    f.AckCount(3, 0),
    f.AckCount(2**32 - 1, 2**32 - 1),
    f.AckArgument(3, b'"ok"'),
    f.AckArgument(3, b""),
]


def doc_examples():
    """{NAME: bytes} from the document's hex dumps: on each line, the hex
    tokens between the first column and the '|'."""
    text = DOC.read_text(encoding="utf-8")
    out = {}
    for match in re.finditer(r"^#### (\w+) example\s*\n+```\n(.*?)```", text, re.S | re.M):
        data = bytearray()
        for line in match.group(2).splitlines():
            left = line.split("|", 1)[0].split()
            data += bytes(int(token, 16) for token in left[1:])
        out[match.group(1)] = bytes(data)
    return out


def test_document_has_an_example_for_every_frame_type():
    examples = doc_examples()
    assert set(examples) == set(DOC_FRAMES)
    assert {f.frame_name(frame) for frame in DOC_FRAMES.values()} == set(DOC_FRAMES)
    v1_types = set(f.FRAME_TYPES.values()) - set(f.V2_FRAMES)
    assert {type(frame) for frame in DOC_FRAMES.values()} == v1_types


@pytest.mark.parametrize("name", sorted(DOC_FRAMES))
def test_encoder_matches_document_dump(name):
    expected = doc_examples()[name]
    assert f.encode(DOC_FRAMES[name]).hex(" ") == expected.hex(" ")
    assert f.decode(expected) == DOC_FRAMES[name]


@pytest.mark.parametrize("frame", list(DOC_FRAMES.values()) + EXTRA_FRAMES, ids=lambda fr: f.frame_name(fr))
def test_round_trip(frame):
    data = f.encode(frame)
    assert struct.unpack(">I", data[:4])[0] == len(data) - 4
    assert data[4] == frame.TYPE
    assert f.decode(data) == frame


def test_stream_cut_at_every_byte_decodes_the_same():
    frames_in = list(DOC_FRAMES.values()) + [fr for fr in EXTRA_FRAMES if len(f.encode(fr)) < 1000]
    stream = b"".join(f.encode(frame) for frame in frames_in)
    for cut in range(len(stream) + 1):
        decoder = f.FrameDecoder()
        got = []
        decoder.feed(stream[:cut])
        got += list(decoder)
        decoder.feed(stream[cut:])
        got += list(decoder)
        assert got == frames_in, f"cut at {cut}"
        assert decoder.buffered == 0


def test_byte_by_byte_feed():
    frames_in = list(DOC_FRAMES.values())
    stream = b"".join(f.encode(frame) for frame in frames_in)
    decoder = f.FrameDecoder()
    got = []
    for i in range(len(stream)):
        decoder.feed(stream[i:i + 1])
        got += list(decoder)
    assert got == frames_in


def test_flags_byte():
    assert f.flags_byte() == 0
    assert f.flags_byte(volatile=True) == 1
    assert f.flags_byte(compress=False) == 2
    assert f.flags_byte(True, True) == 7
    for byte in (0, 1, 2, 3, 6, 7):  # bit 2 means nothing without bit 1
        assert f.flags_byte(*f.parse_flags(byte)) == byte
    assert f.parse_flags(2) == (False, False)
    assert f.parse_flags(0) == (False, None)


def frame_bytes(type_byte, body):
    return struct.pack(">I", 1 + len(body)) + bytes([type_byte]) + body


@pytest.mark.parametrize("data, code, words", [
    (frame_bytes(0x7F, b""), ErrorCode.MALFORMED_FRAME, "unknown frame type 0x7f"),
    (frame_bytes(0x04, b"\x00" * 9), ErrorCode.MALFORMED_FRAME, "1 bytes left after the body of PING"),
    (frame_bytes(0x04, b"\x00" * 7), ErrorCode.MALFORMED_FRAME, "PING.token needs 8 bytes"),
    (frame_bytes(0x03, b"\x00\x01\x00\x05abc"), ErrorCode.MALFORMED_FRAME, "ERROR.message needs 5 bytes"),
    (frame_bytes(0x03, b"\x00\x01\x00\x02\xc3\x28"), ErrorCode.MALFORMED_FRAME, "ERROR.message is not valid UTF-8"),
    (frame_bytes(0x12, b"\x00\x01/\x00\x01s\xff\xff\xff\xff"), ErrorCode.MALFORMED_FRAME,
     "SOCKET_JOIN.rooms announces 4294967295 items"),
    (frame_bytes(0x21, b"\x00" * 8 + b"\x00\x01s" + b"\x09" + b"\x00\x00\x00\x02[]"), ErrorCode.MALFORMED_FRAME,
     "ACKED.status 9"),
    (b"\x00\x00\x00\x00", ErrorCode.FRAME_TOO_LARGE, "frame length 0"),
    (b"\x01\x00\x00\x01\x04", ErrorCode.FRAME_TOO_LARGE, "frame length 16777217"),
])
def test_malformed_frames_raise_clear_errors(data, code, words):
    decoder = f.FrameDecoder()
    decoder.feed(data)
    with pytest.raises(ProtocolError) as info:
        decoder.next_frame()
    assert info.value.code == code
    assert words in str(info.value)


def test_length_is_checked_before_the_body_arrives():
    decoder = f.FrameDecoder()
    decoder.feed(b"\x7f\xff\xff\xff")  # 2 GiB announced, nothing else
    with pytest.raises(ProtocolError) as info:
        decoder.next_frame()
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE


def test_good_frames_before_a_bad_one_are_still_returned():
    decoder = f.FrameDecoder()
    decoder.feed(f.encode(f.Ping(1)) + frame_bytes(0x7F, b""))
    assert decoder.next_frame() == f.Ping(1)
    with pytest.raises(ProtocolError):
        decoder.next_frame()


def test_decode_requires_exactly_one_frame():
    with pytest.raises(ProtocolError, match="incomplete"):
        f.decode(f.encode(f.Ping(1))[:-1])
    with pytest.raises(ProtocolError, match="after the frame"):
        f.decode(f.encode(f.Ping(1)) + b"\x00")


def test_encoder_refuses_what_the_wire_cannot_carry():
    with pytest.raises(ValueError, match="SOCKET_JOIN.rooms: 65536 UTF-8 bytes"):
        f.encode(f.SocketJoin("/", "s", ["x" * 65536]))
    with pytest.raises(ValueError, match="PING.token"):
        f.encode(f.Ping(-1))
    with pytest.raises(ValueError, match="HELLO.pid"):
        f.encode(f.Hello(1, "n", 2**32))


def test_socket_path_is_read_from_the_variable_busd_reads(monkeypatch):
    from socketbus_connector.link import DEFAULT_PATH, Link

    monkeypatch.setenv("SOCKETBUS_SOCKET_PATH", "/tmp/socketbus-test/busd-7.sock")
    assert Link().path == "/tmp/socketbus-test/busd-7.sock"
    assert Link("/explicit.sock").path == "/explicit.sock"
    monkeypatch.delenv("SOCKETBUS_SOCKET_PATH")
    assert Link().path == DEFAULT_PATH == "/run/socketbus/busd.sock"


# --- version 2 ------------------------------------------------------------------

DOC_V2 = DOC.with_name("local-protocol-v2.md")


def test_every_v2_frame_type_is_known():
    assert {f.frame_name(t) for t in f.V2_FRAMES} == {
        "NAMESPACE", "ROOMS_JOIN", "ROOMS_LEAVE", "ROOMS_BROADCAST", "DELIVERED", "ANSWER",
        "CLUSTER_REQUEST", "BROADCAST_WITH_ACK", "DELIVER_TO_ROOMS", "APPLY", "QUESTION",
        "CLUSTER_REPLY", "ACK_COUNT", "ACK_ARGUMENT"}
    assert {t.TYPE for t in f.V2_FRAMES} == set(range(0x15, 0x1D)) | set(range(0x26, 0x2C))
    assert {type(x) for x in V2_SAMPLES} == set(f.V2_FRAMES)


@pytest.mark.parametrize("frame", V2_SAMPLES, ids=lambda fr: f.frame_name(fr))
def test_v2_round_trip(frame):
    data = f.encode(frame)
    assert struct.unpack(">I", data[:4])[0] == len(data) - 4
    assert data[4] == frame.TYPE
    assert f.decode(data) == frame


def test_v2_stream_cut_at_every_byte():
    stream = b"".join(f.encode(x) for x in V2_SAMPLES)
    for cut in range(0, len(stream) + 1, 3):
        decoder = f.FrameDecoder()
        decoder.feed(stream[:cut])
        got = list(decoder)
        decoder.feed(stream[cut:])
        got += list(decoder)
        assert got == V2_SAMPLES, f"cut at {cut}"


def test_typed_rooms_on_the_wire():
    # A string room: tag 0, then a string; a number: tag 1, then f64be.
    data = f.encode(f.RoomsJoin("/", "s", ["7", 7, 0.5]))
    body = data[5:]
    rooms = body[2 + 1 + 2 + 1:]
    assert rooms.hex(" ") == ("00 00 00 03 "
                              "00 00 01 37 "
                              "01 40 1c 00 00 00 00 00 00 "
                              "01 3f e0 00 00 00 00 00 00")
    got = f.decode(data).rooms
    assert got == ["7", 7, 0.5]
    assert [type(r) for r in got] == [str, int, float]  # "7" and 7 stay apart


@pytest.mark.parametrize("room, words", [
    (True, "a room is a str or a number"),
    (("a", 1), "a room is a str or a number"),
    (None, "a room is a str or a number"),
    (2**53 + 1, "not a finite number"),
    (float("nan"), "not a finite number"),
    (float("inf"), "not a finite number"),
    (float("-inf"), "not a finite number"),
])
def test_encoder_refuses_rooms_the_wire_cannot_type(room, words):
    with pytest.raises(ValueError, match=words):
        f.encode(f.RoomsJoin("/", "s", [room]))


@pytest.mark.parametrize("body, words", [
    (b"\x00\x01/\x00\x01s\x00\x00\x00\x01\x02\x00\x00", "has room tag 0x02"),
    (b"\x00\x01/\x00\x01s\x00\x00\x00\x01\x01\x00\x00", "ROOMS_JOIN.rooms needs 8 bytes"),
    (b"\x00\x01/\x00\x01s\x00\x00\x00\x02\x00\x00\x00", "announces 2 items"),
    (b"\x00\x01/\x00\x01s\x00\x00\x00\x01\x01" + struct.pack(">d", float("nan")), "non-finite numeric room"),
    (b"\x00\x01/\x00\x01s\x00\x00\x00\x01\x01" + struct.pack(">d", float("-inf")), "non-finite numeric room"),
])
def test_malformed_rooms(body, words):
    decoder = f.FrameDecoder()
    decoder.feed(frame_bytes(0x16, body))
    with pytest.raises(ProtocolError) as info:
        decoder.next_frame()
    assert info.value.code == ErrorCode.MALFORMED_FRAME
    assert words in str(info.value)


def test_apply_op_outside_1_to_3_is_malformed():
    body = b"\x00\x00\x01/" + b"\x00\x00\x00\x00" * 3 + b"\x00"
    for op, ok in [(0, False), (1, True), (3, True), (4, False), (255, False)]:
        data = frame_bytes(0x27, bytes([op]) + body[1:])
        if ok:
            assert f.decode(data) == f.Apply(op, "/", [], [], [], False)
        else:
            with pytest.raises(ProtocolError, match=f"APPLY.op {op} is not 1, 2 or 3"):
                f.decode(data)


# The frame each "#### NAME example" dump of docs/local-protocol-v2.md shows.
V2_DOC_FRAMES = {
    "NAMESPACE": f.Namespace("/chat"),
    "ROOMS_JOIN": f.RoomsJoin("/", SID, ["roomA", 123]),
    "ROOMS_LEAVE": f.RoomsLeave("/", SID, [123]),
    "ROOMS_BROADCAST": f.RoomsBroadcast("/", 0, [123], ["AgUEon6wzXtHqqioAAAC"], b'2["news",1]', []),
    "DELIVERED": f.Delivered(4503599627370497, "/", [SID]),
    "ANSWER": f.Answer(7, 0, b'["pong"]'),
    "CLUSTER_REQUEST": f.ClusterRequest(1, 2, "/", 5000, b'{"rooms":["roomA"],"except":[]}'),
    "BROADCAST_WITH_ACK": f.BroadcastWithAck(2, "/", 0, ["roomA"], [], 2000, b'27["x",1]', []),
    "DELIVER_TO_ROOMS": f.DeliverToRooms(
        4503599627370497, 0, "/", ["roomA", 123], [SID], b'24503599627370497["x",1]', []),
    "APPLY": f.Apply(1, "/", ["roomA"], [], ["vip"], False),
    "QUESTION": f.Question(3, 1, "/", b'{"rooms":["roomA"],"except":[]}'),
    "CLUSTER_REPLY": f.ClusterReply(1, 0, b'{"count":3}'),
    "ACK_COUNT": f.AckCount(2, 4),
    "ACK_ARGUMENT": f.AckArgument(2, b'"ok"'),
}


@pytest.mark.parametrize("name", sorted(V2_DOC_FRAMES))
def test_v2_encoder_matches_document_dump(name):
    expected = v2_doc_examples()[name]
    assert f.encode(V2_DOC_FRAMES[name]).hex(" ") == expected.hex(" ")
    assert f.decode(expected) == V2_DOC_FRAMES[name]
    assert [type(r) for r in getattr(f.decode(expected), "rooms", [])] == [
        type(r) for r in getattr(V2_DOC_FRAMES[name], "rooms", [])]


def test_v2_document_has_an_example_for_every_v2_frame_type():
    assert set(v2_doc_examples()) == set(V2_DOC_FRAMES)
    assert {type(x) for x in V2_DOC_FRAMES.values()} == set(f.V2_FRAMES)


def v2_doc_examples():
    text = DOC_V2.read_text(encoding="utf-8")
    out = {}
    for match in re.finditer(r"^#### (\w+) example\s*\n+```\n(.*?)```", text, re.S | re.M):
        data = bytearray()
        for line in match.group(2).splitlines():
            left = line.split("|", 1)[0].split()
            data += bytes(int(token, 16) for token in left[1:])
        out[match.group(1)] = bytes(data)
    return out


def test_v2_document_dumps_decode_and_reencode_byte_for_byte():
    """Every hex dump of docs/local-protocol-v2.md decodes to a frame of the
    type its heading names, consumes exactly its bytes, and encodes back to
    the same bytes."""
    examples = v2_doc_examples()
    assert examples, "docs/local-protocol-v2.md has no hex dumps"
    names = {f.frame_name(t) for t in f.V2_FRAMES}
    for name, data in examples.items():
        frame = f.decode(data)
        assert f.frame_name(frame) == name or name.startswith(f.frame_name(frame)), (name, frame)
        assert f.encode(frame).hex(" ") == data.hex(" "), name
    assert names <= {f.frame_name(f.decode(d)) for d in examples.values()}
