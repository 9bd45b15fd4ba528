"""A second namespace ("/other", with clients of its own beside those of
"/") and binary arguments, in the all-stock and the mixed cluster."""

import pytest

from conftest import both
from observe import observe
from test_adapter_calls import check_same

OTHER = [
    ("A0", "A", ["room1", 123], "ack"),
    ("B0", "B", ["room1"], "ack"),
    ("S0", "S", ["room1"], "ack"),
    ("A9", "A", ["room1"], "ack", "/other"),
    ("B9", "B", ["room2"], "ack", "/other"),
    ("S9", "S", ["room1", 123], "ack", "/other"),
]
BYTES = {"$binary": "00ff10"}


@pytest.fixture(autouse=True)
def clients_of_two_namespaces(monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "CLIENTS", OTHER)


def run(clusters, issuer, op, **kw):
    return both(lambda c: observe(c, issuer, op, **kw), *clusters)


def receivers(observation, event):
    return sorted(label for label, events in observation["events"].items() if any(e[0] == event for e in events))


@pytest.mark.parametrize("issuer", ["A", "S", "E"])
@pytest.mark.parametrize("rooms,expected", [([], ["A9", "B9", "S9"]), (["room1"], ["A9", "S9"]), ([123], ["S9"])])
def test_broadcast_in_another_namespace(clusters, issuer, rooms, expected):
    baseline, mixed = run(clusters, issuer, "broadcast", nsp="/other", rooms=rooms, event="elsewhere", args=[1])
    assert receivers(baseline, "elsewhere") == expected
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", ["A", "S"])
@pytest.mark.parametrize("op", ["fetchSockets", "allRooms", "serverCount"])
def test_cluster_calls_in_another_namespace(clusters, issuer, op):
    baseline, mixed = run(clusters, issuer, op, nsp="/other")
    if op == "fetchSockets":
        assert sorted(s["label"] for s in baseline["outcome"]["value"]) == ["A9", "B9", "S9"]
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", ["A", "S", "E"])
def test_sockets_join_in_another_namespace(clusters, issuer):
    baseline, mixed = run(clusters, issuer, "socketsJoin", nsp="/other", rooms=["room1"], targets=["moved"])
    assert sorted(label for label, rooms in baseline["rooms"].items() if "moved" in rooms) == ["A9", "S9"]
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", ["A", "S"])
def test_server_side_emit_with_ack_in_another_namespace(clusters, issuer):
    baseline, mixed = run(clusters, issuer, "serverSideEmit", nsp="/other", event="interop", args=[3], withAck=True)
    assert sorted(r["from"] for r in baseline["outcome"]["value"]) == sorted({"A", "B", "S"} - {issuer})
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", ["A", "S", "E"])
def test_binary_broadcast(clusters, issuer):
    baseline, mixed = run(clusters, issuer, "broadcast", rooms=["room1"], event="bytes", args=["x", BYTES, {"b": BYTES}])
    assert receivers(baseline, "bytes") == ["A0", "B0", "S0"]
    got = baseline["events"]["B0"][0]
    assert got[2] == BYTES and got[3] == {"b": BYTES}, got
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", ["A", "S"])
def test_binary_broadcast_with_acks(clusters, issuer):
    baseline, mixed = run(clusters, issuer, "broadcast", event="bytes", args=[BYTES], ackTimeout=1000)
    assert [r["label"] for r in baseline["outcome"]["value"]] == ["A0", "B0", "S0"]
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", ["A", "S"])
def test_binary_acks(clusters, issuer):
    """Every client answers with bytes: each answer reaches the caller as bytes."""
    acks = {label: "bytes" for label, *_ in OTHER}
    baseline, mixed = run(clusters, issuer, "broadcast", event="ask", args=[1], ackTimeout=1000, acks=acks)
    responses = baseline["outcome"]["value"]
    # Bytes, not an object that looks like a serialized Buffer.
    assert sorted(bytes.fromhex(r["$binary"]).decode() for r in responses) == ["A0", "B0", "S0"], responses
    check_same(baseline, mixed)
