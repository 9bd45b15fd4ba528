"""Emitter's plain emits publish the bytes @socket.io/redis-emitter 5.1.0
published (Tests/SocketIOCodecTests/Fixtures/captured.jsonl), on the same
channel, through a real redis-server; record parsing skips hostile input."""

import json
from pathlib import Path

import msgpack
import pytest
import redis

from socketbus_connector import Emitter
from socketbus_connector.confirmations import DeliveryWait, parse_record
from socketbus_connector.stock import StockReport, parse_response

CAPTURED = Path(__file__).resolve().parents[3] / "Tests" / "SocketIOCodecTests" / "Fixtures" / "captured.jsonl"
A = "AgUEon6wzXtHqqioAAAB"


def captured(seq):
    for line in CAPTURED.read_text().splitlines():
        record = json.loads(line)
        if record["seq"] == seq:
            return record["channel"], bytes.fromhex(record["hex"])
    raise KeyError(seq)


# seq -> what the stock emitter was asked to do, in this library's words.
CASES = {
    0: lambda e: e.to(A).emit("findSocket", {"hello": "world", "n": 1}),
    1: lambda e: e.of("/chat").emit("findSocket", {"hello": "chat"}),
    2: lambda e: e.of("/chat").to("kjd6nH2e29v_GNS3AAAC").emit("findSocket", {"where": "chat-sid"}),
    3: lambda e: e.emit("broadcastAll", "plain string", 42, True, None),
    4: lambda e: e.to("roomA").emit("toRoom", {"room": "roomA"}),
    5: lambda e: e.to(["roomA", "roomB"]).except_("roomC").emit("multi", {"rooms": ["roomA", "roomB"], "except": "roomC"}),
    6: lambda e: e.except_("roomA").emit("exceptOnly", "not for roomA"),
    7: lambda e: e.to("roomA").emit("bin", {"name": "file.bin", "data": b"\x00\x01\x02\xfe\xff"}),
    8: lambda e: e.to("roomB").emit("bin2", b"\xde\xad\xbe\xef", "text", b""),
    9: lambda e: e.volatile.emit("vol", {"v": 1}),
    10: lambda e: e.compress(False).to("roomB").emit("nocompress", {"c": False}),
    16: lambda e: e.in_("joinedRemote").emit("afterJoin", 1.0),  # a float that JS would hold as 1
}


@pytest.fixture
def sync_redis(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


@pytest.mark.parametrize("seq", sorted(CASES))
def test_plain_emit_is_byte_identical_to_the_stock_emitter(seq, sync_redis):
    channel, payload = captured(seq)
    pubsub = sync_redis.pubsub()
    try:
        pubsub.psubscribe("socket.io#*")
        assert pubsub.get_message(timeout=2)["type"] == "psubscribe"
        assert CASES[seq](Emitter(sync_redis)) == 1
        message = None
        while message is None or message["type"] != "pmessage":
            message = pubsub.get_message(timeout=2)
            assert message is not None, "nothing published"
        assert message["channel"].decode() == channel
        assert message["data"].hex() == payload.hex()
    finally:
        pubsub.close()


def test_operators_are_immutable_and_validate():
    base = Emitter(None)
    chat = base.of("chat").to("r1")
    assert base.options.nsp == "/" and base.options.rooms == ()
    assert chat.options.nsp == "/chat" and chat.options.rooms == ("r1",)
    assert chat.to("r1", "r2").options.rooms == ("r1", "r2")
    with pytest.raises(TypeError):
        base.to(["ok", 1.5])
    with pytest.raises(TypeError):
        base.message(42)
    with pytest.raises(ValueError):
        base._checked(1.0, "")
    channel, payload = base.to("x").message("ev", socketbus={"id": "m", "ack": True, "timeout": 800})
    assert channel == "socket.io#/#x#"
    assert msgpack.unpackb(payload)[2] == {"rooms": ["x"], "flags": {}, "except": [],
                                           "socketbus": {"id": "m", "ack": True, "timeout": 800}}


HOSTILE = [b"", b"\xff\xfe", b"null", b"[]", b"42", b'"text"', b"{", b"[" * 100000,
           b'{"type":"confirmation","messageId":"m"}',
           b'{"type":"confirmation","messageId":"m","node":"n","socketId":"s","status":"maybe"}',
           b'{"type":"confirmation","messageId":"m","node":"n","socketId":7,"status":"delivered"}',
           b'{"type":"confirmation","messageId":"m","node":"n","socketId":"s","status":"delivered","args":"x"}',
           b'{"type":"dispatched","messageId":"m","node":"n","sockets":"s"}',
           b'{"type":"dispatched","messageId":"m","node":"n","sockets":[1]}',
           b'{"type":"dispatched","messageId":"other","node":"n","sockets":["s"]}',
           b'{"type":"other","messageId":"m","node":"n"}']


@pytest.mark.parametrize("data", HOSTILE)
def test_malformed_records_are_skipped(data):
    assert parse_record(data, "m") is None


def test_delivery_wait_rules():
    wait = DeliveryWait("m", ["a"], has_room_targets=False)
    assert not wait.is_complete(0)
    ok = parse_record(b'{"type":"confirmation","messageId":"m","node":"n","socketId":"a","status":"delivered",'
                      b'"args":["ok"],"latencyMs":3}', "m")
    assert wait.take(ok, 0).args == ["ok"]
    assert wait.take(ok, 0) is None  # the first outcome wins
    assert wait.is_complete(0) and wait.report.all_delivered
    # busd's own shape for a time-out: "args": null.
    late = parse_record(b'{"type":"confirmation","messageId":"m","socketId":"b","node":"n","namespace":"/",'
                        b'"status":"timeout","ackId":4503599627370497,"time":1,"latencyMs":2413,"args":null}', "m")
    assert wait.take(late, 0).status == "timeout" and late["args"] is None

    rooms = DeliveryWait("m", [], has_room_targets=True, quiet_period=0.25)
    rooms.take(parse_record(b'{"type":"dispatched","messageId":"m","node":"n","sockets":["a"]}'), 10.0)
    rooms.take(ok, 10.0)
    assert not rooms.is_complete(10.1) and rooms.is_complete(10.3)


@pytest.mark.parametrize("data", [None, b"", b"\xc1", b"{", b"[1]", b'{"requestId":5}', b"\x93\x01\x02\x03",
                                  b"\x81\xa9requestId\x05", "text"])
def test_malformed_adapter_responses_are_skipped(data):
    assert parse_response(data) is None


def test_stock_report_counts_only_its_own_well_formed_answers():
    report = StockReport("abc", ["s1"], servers=2)
    assert report.take({"requestId": "other", "type": 8, "clientCount": 1}) is None
    assert report.take({"requestId": "abc", "type": 8, "clientCount": -1}) is None
    assert report.take({"requestId": "abc", "type": 8, "clientCount": True}) is None
    assert report.take({"requestId": "abc", "type": 8, "clientCount": 1}) == "count"
    assert not report.is_complete
    assert report.take({"requestId": "abc", "type": 8, "clientCount": 0}) == "count"
    assert report.take({"requestId": "abc", "type": 9, "packet": "ok"}) == "ack"
    assert report.is_complete and report.acks == ["ok"]
    # The captured BROADCAST_ACK / BROADCAST_CLIENT_COUNT of a real 8.3.0 node decode.
    assert parse_response(captured_hex(30))["packet"] == {"client": "A", "event": "ev", "n": 1}
    assert parse_response(captured_hex(29))["clientCount"] == 2


def captured_hex(seq):
    return captured(seq)[1]
