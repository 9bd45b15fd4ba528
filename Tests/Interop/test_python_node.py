"""A python-socketio server (clients/python + its busd) in the mixed
cluster: A stock, S socketbus, P python-socketio; the baseline has three
stock servers. Broadcasts in every direction reach the same clients, and the
cluster calls of the Node.js servers count and see P's sockets."""

import pytest

from conftest import both, reset
from interop_cluster import Cluster
from observe import observe

BASELINE = {"A": "stock", "S": "stock", "P": "stock"}
MIXED = {"A": "stock", "S": "socketbus", "P": "python"}
CLIENTS = [
    ("A0", "A", ["room1", 123], "ack"),
    ("A1", "A", ["room2"], "ack"),
    ("S0", "S", ["room1"], "ack"),
    ("S1", "S", [123], "ack"),
    ("P0", "P", ["room1", "room2"], "ack"),
    ("P1", "P", [123], "ack"),
]
ALL = sorted(c[0] for c in CLIENTS)


@pytest.fixture(scope="module")
def python_clusters(tmp_path_factory):
    import conftest

    started = []
    try:
        for name, shape in conftest.wanted_clusters():
            started.append(Cluster(tmp_path_factory.mktemp(f"py-{name}"), MIXED if name == "mixed" else BASELINE))
        yield tuple(started) if len(started) == 2 else (started[0], None)
    finally:
        for cluster in started:
            cluster.stop()


@pytest.fixture(autouse=True)
def python_clients(monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "CLIENTS", CLIENTS)


def receivers(observation, event):
    return sorted(label for label, events in observation["events"].items() if any(e[0] == event for e in events))


ROOMS = [({}, ALL), ({"rooms": ["room1"]}, ["A0", "P0", "S0"]), ({"rooms": [123]}, ["A0", "P1", "S1"]),
         ({"rooms": ["room2", 123]}, ["A0", "A1", "P0", "P1", "S1"])]


@pytest.mark.parametrize("issuer", ["A", "S", "E", "P"])
@pytest.mark.parametrize("kw,expected", ROOMS, ids=[str(r[0]) for r in ROOMS])
def test_broadcasts_reach_the_same_clients(python_clusters, issuer, kw, expected):
    kw = {**kw, "event": "news", "args": ["x", {"n": 1}]}
    baseline, mixed = both(lambda c: observe(c, issuer, "broadcast", **kw), *python_clusters)
    assert receivers(baseline, "news") == expected
    if mixed is not None:
        assert mixed["outcome"] == baseline["outcome"]
        assert receivers(mixed, "news") == expected
        # The same frames: the python server's packet is the one a stock server sends.
        assert mixed["events"] == baseline["events"]


@pytest.mark.parametrize("issuer", ["A", "S"])
def test_server_count_counts_the_python_server(python_clusters, issuer):
    baseline, mixed = both(lambda c: observe(c, issuer, "serverCount"), *python_clusters)
    assert baseline["outcome"] == {"value": 3}
    if mixed is not None:
        assert mixed["outcome"] == baseline["outcome"]


@pytest.mark.parametrize("issuer", ["A", "S"])
@pytest.mark.parametrize("rooms,expected", [([], ALL), ([123], ["A0", "P1", "S1"])])
def test_fetch_sockets_sees_the_python_servers_sockets(python_clusters, issuer, rooms, expected):
    """Socket ids and rooms (python-socketio has no socket.data; its handshake is busd's business)."""
    baseline, mixed = both(lambda c: observe(c, issuer, "fetchSockets", rooms=rooms), *python_clusters)

    def ids_and_rooms(observation):
        return sorted((s["id"], tuple(map(str, s["rooms"]))) for s in observation["outcome"]["value"])

    assert sorted(s["id"] for s in baseline["outcome"]["value"]) == [f"sid:{x}" for x in expected]
    if mixed is not None:
        assert "error" not in mixed["outcome"], mixed["outcome"]
        assert ids_and_rooms(mixed) == ids_and_rooms(baseline)


@pytest.mark.parametrize("issuer", ["A", "S", "E"])
def test_sockets_join_reaches_the_python_server(python_clusters, issuer):
    baseline, mixed = both(lambda c: observe(c, issuer, "socketsJoin", rooms=["room1"], targets=["j"]), *python_clusters)
    joined = sorted(label for label, rooms in baseline["rooms"].items() if "j" in rooms)
    assert joined == ["A0", "P0", "S0"]
    if mixed is not None:
        assert sorted(label for label, rooms in mixed["rooms"].items() if "j" in rooms) == joined


@pytest.mark.parametrize("mode,operation", [("to-room-after-join", "join"), ("to-room-after-leave", "leave")])
def test_join_then_broadcast_on_the_python_server(python_clusters, mode, operation):
    """The race of issue 13 with the python-socketio server as the one whose
    socket joins (leaves): enter_room has returned, then A broadcasts to the room."""
    from test_join_races import race, tally

    def run(cluster):
        got = race(cluster, "A", mode, operation, lambda room: {"rooms": [room]}, subject="P", label="P0")
        return tally(got, mode, subject_label="P0")

    baseline, mixed = both(run, *python_clusters)
    print(f"\npython server, {mode}: stock misses/wrong {baseline}, mixed {mixed}")
    assert baseline == (0, 0)
    if mixed is not None:
        assert mixed == (0, 0), f"mixed cluster: {mixed[0]} misses, {mixed[1]} wrong deliveries"


@pytest.fixture(scope="module", params=["dynamic", "dynamic-private"])
def sharded_python_clusters(request, tmp_path_factory):
    import conftest

    started = []
    try:
        for name, shape in conftest.wanted_clusters():
            workdir = tmp_path_factory.mktemp(f"py-sharded-{request.param}-{name}")
            started.append(Cluster(workdir, MIXED if name == "mixed" else BASELINE, sharded_mode=request.param))
        yield tuple(started) if len(started) == 2 else (started[0], None)
    finally:
        for cluster in started:
            cluster.stop()


@pytest.mark.parametrize("mode,operation", [("to-room-after-join", "join"), ("to-room-after-leave", "leave")])
def test_join_then_broadcast_on_the_python_server_sharded(sharded_python_clusters, mode, operation):
    """The same race with the sharded adapter in a dynamic mode: the async
    manager's enter_room returns once busd says the room's channel is
    subscribed (CLUSTER_REQUEST kind 9), so A's broadcast on that channel
    right after it is not missed."""
    from test_join_races import REPEATS, race, tally
    from test_sharded_cluster import stock_miss_bound

    def run(cluster):
        got = race(cluster, "A", mode, operation, lambda room: {"rooms": [room]}, subject="P", label="P0")
        return tally(got, mode, subject_label="P0")

    baseline, mixed = both(run, *sharded_python_clusters)
    print(f"\npython server, sharded {sharded_python_clusters[0].sharded_mode} {mode}: stock {baseline}, mixed {mixed}")
    # A stock sharded node does not wait for Redis's SSUBSCRIBE reply (see test_sharded_cluster.py).
    assert baseline[1] == 0 and baseline[0] <= stock_miss_bound(REPEATS)
    if mixed is not None:
        assert mixed == (0, 0), f"mixed cluster: {mixed[0]} misses, {mixed[1]} wrong deliveries"


def ids_and_rooms(sockets):
    return sorted((s["id"], tuple(map(str, s["rooms"]))) for s in sockets)


CALLS_ON_P = [
    ("serverCount", {}),
    ("allRooms", {}),
    ("fetchSockets", {}),
    ("fetchSockets", {"rooms": [123]}),
    ("fetchSockets", {"rooms": ["room2"], "except": [123]}),
    ("socketsJoin", {"rooms": ["room1"], "targets": ["pj"]}),
    ("socketsLeave", {"except": ["room1"], "targets": [123]}),
    ("disconnectSockets", {"rooms": ["room2"]}),
    ("serverSideEmit", {"event": "interop", "args": [5]}),
    ("serverSideEmit", {"event": "interop", "args": [6], "withAck": True}),
]


@pytest.mark.parametrize("op,kw", CALLS_ON_P, ids=[f"{op}-{kw}" for op, kw in CALLS_ON_P])
def test_cluster_calls_issued_on_the_python_server(python_clusters, op, kw):
    """The python-socketio server's application calls the cluster through its
    connector (python-socketio has no such API: the manager's own methods);
    the all-stock cluster makes the same call on its third server."""
    baseline, mixed = both(lambda c: observe(c, "P", op, **kw), *python_clusters)
    if mixed is None:
        return
    assert "error" not in mixed["outcome"], mixed["outcome"]
    expected, actual = baseline["outcome"].get("value"), mixed["outcome"].get("value")
    if op == "fetchSockets":
        assert ids_and_rooms(actual) == ids_and_rooms(expected)
    elif op == "allRooms":
        assert sorted(map(str, actual)) == sorted(map(str, expected))
    else:
        assert actual == expected
    assert mixed["rooms"] == baseline["rooms"]
    assert {k: v for k, v in mixed["events"].items()} == baseline["events"]
    assert mixed["serverSideEmit received"] == baseline["serverSideEmit received"]


def test_server_side_emit_with_ack_answered_by_the_python_server(python_clusters):
    baseline, mixed = both(lambda c: observe(c, "A", "serverSideEmit", event="interop", args=[7], withAck=True),
                           *python_clusters)
    assert sorted(r["from"] for r in baseline["outcome"]["value"]) == ["P", "S"]
    if mixed is not None:
        assert mixed["outcome"] == baseline["outcome"]
