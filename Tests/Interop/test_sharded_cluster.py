"""The same calls in a cluster whose servers use the sharded adapter
(@socket.io/redis-adapter 8.3.0 createShardedAdapter, SSUBSCRIBE/SPUBLISH,
subscription mode `dynamic`): an all-stock sharded cluster against a mixed
one where S is socketbus (busd --adapter sharded). Results, errors,
deliveries, rooms and serverSideEmit handler calls must be the same.

The stock servers run createShardedAdapter on peers/sharded-redis.js, a small
RESP client: Debian's node-redis 4.5.1 has no sSubscribe/sPublish.

Not here, because the sharded adapter has no such thing: the emitter
(@socket.io/redis-emitter publishes with PUBLISH, which no SSUBSCRIBEr
hears) and allRooms (not part of the sharded adapter's API)."""

import os

import pytest
import redis as redis_py

from conftest import BASELINE, MIXED, shard_count
from interop_cluster import Cluster
from test_adapter_calls import ACKED, BROADCASTS, DISCONNECTS, FETCH, ROOM_OPS, case, check_same, labels, receivers, run

NODES = ["A", "S"]
# Every subscription mode by default; INTEROP_SHARDED_MODES=dynamic runs one.
MODES = os.environ.get("INTEROP_SHARDED_MODES", "dynamic,dynamic-private,static").split(",")


@pytest.fixture(scope="module", params=MODES)
def clusters(request, tmp_path_factory):
    started = []
    try:
        only = os.environ.get("INTEROP_CLUSTERS", "")
        shapes = (("baseline", BASELINE),) if only == "baseline" else (("baseline", BASELINE), ("mixed", MIXED))
        for name, shape in shapes:
            started.append(Cluster(tmp_path_factory.mktemp(f"sharded-{request.param}-{name}"), shape, sharded_mode=request.param))
        yield tuple(started) if len(started) == 2 else (started[0], None)
    finally:
        for cluster in started:
            cluster.stop()


@pytest.mark.parametrize("issuer,op,kw,expected", [case(i, "fetchSockets", want, **kw) for i in NODES for kw, want in FETCH])
def test_fetch_sockets(clusters, issuer, op, kw, expected):
    baseline, mixed = run(clusters, issuer, op, kw)
    assert labels(baseline["outcome"]["value"]) == expected
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", NODES)
def test_server_count(clusters, issuer):
    baseline, mixed = run(clusters, issuer, "serverCount", {})
    assert baseline["outcome"] == {"value": 3}
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer,op,kw,expected", [case(i, op, want, **kw) for i in NODES for op, kw, want in ROOM_OPS])
def test_sockets_join_and_leave(clusters, issuer, op, kw, expected):
    baseline, mixed = run(clusters, issuer, op, kw)
    changed = {label for label, rooms in baseline["rooms"].items() if any(t in rooms for t in kw["targets"])}
    if op == "socketsJoin":
        assert changed == expected
    else:
        assert not changed & expected
    check_same(baseline, mixed)


@pytest.mark.parametrize(
    "issuer,op,kw,expected", [case(i, "disconnectSockets", want, **kw) for i in NODES for kw, want in DISCONNECTS]
)
def test_disconnect_sockets(clusters, issuer, op, kw, expected):
    baseline, mixed = run(clusters, issuer, op, kw)
    assert receivers(baseline, "(disconnect)") == expected
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer", NODES)
def test_server_side_emit_without_ack(clusters, issuer):
    kw = {"event": "interop", "args": [1, "two", {"three": [3]}]}
    baseline, mixed = run(clusters, issuer, "serverSideEmit", kw)
    assert sorted(baseline["serverSideEmit received"]) == sorted({"A", "B", "S"} - {issuer})
    check_same(baseline, mixed)


@pytest.mark.parametrize("form", [True, "promise"])
@pytest.mark.parametrize("issuer", NODES)
def test_server_side_emit_with_ack(clusters, issuer, form):
    kw = {"event": "interop", "args": [1, {"two": 2}], "withAck": form}
    baseline, mixed = run(clusters, issuer, "serverSideEmit", kw)
    assert [r["from"] for r in baseline["outcome"]["value"]] == sorted({"A", "B", "S"} - {issuer})
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer,op,kw,expected", [case(i, "broadcast", want, **kw) for i in NODES for kw, want in BROADCASTS])
def test_broadcast(clusters, issuer, op, kw, expected):
    kw = {**kw, "event": "news", "args": ["x", 1, {"y": [True, None]}]}
    baseline, mixed = run(clusters, issuer, op, kw)
    assert receivers(baseline, "news") == expected
    check_same(baseline, mixed)


@pytest.mark.parametrize("issuer,op,kw,expected", [case(i, "broadcast", want, **kw) for i in NODES for kw, want in ACKED])
def test_broadcast_with_acks(clusters, issuer, op, kw, expected):
    kw = {**kw, "event": "ask", "args": [42]}
    baseline, mixed = run(clusters, issuer, op, kw)
    assert receivers(baseline, "ask") == expected
    assert [r["label"] for r in baseline["outcome"]["value"]] == expected
    check_same(baseline, mixed)


def room_subscribers(cluster):
    """SHARDNUMSUB of each room channel and of the namespace channel."""
    redis = redis_py.Redis.from_url(cluster.redis_url)
    try:
        return {ch: shard_count(redis, ch) for ch in ("socket.io#/#", "socket.io#/#room1#", "socket.io#/#room2#", "socket.io#/#123#")}
    finally:
        redis.close()


def test_room_channels_follow_the_rooms(clusters):
    """Each server SSUBSCRIBEs the channel of a room only while it has a
    socket in it (dynamic): busd as a stock node does, so it does not
    receive the traffic of rooms its node has no socket in."""
    from conftest import reset

    if clusters[0].sharded_mode != "dynamic":
        pytest.skip("room channels: dynamic mode")
    counts = []
    for cluster in filter(None, clusters):
        reset(cluster)
        # room1: A0, B0, S0; room2: A1, B0, S1; 123: A0, S1.
        counts.append(room_subscribers(cluster))
        assert counts[-1] == {"socket.io#/#": 3, "socket.io#/#room1#": 3, "socket.io#/#room2#": 3, "socket.io#/#123#": 2}
        # S's sockets leave room 123 and room1: S's channels of them go.
        cluster.call("S", "socketsLeave", rooms=[], targets=[123, "room1"], local=True)
        from interop_cluster import wait_for

        wait_for(lambda: room_subscribers(cluster)["socket.io#/#123#"] == 1, what="S's room channel 123 dropped")
        counts.append(room_subscribers(cluster))
    if len(counts) == 4:
        assert counts[:2] == counts[2:]


# In the dynamic modes a broadcast to one room goes to the room's own
# channel, which busd SSUBSCRIBEs when its node tells it of the join; a stock
# node's join() resolves once Redis confirmed its SSUBSCRIBE. The connector's
# join() of a room new to the node waits for busd's confirmation of the same
# (CLUSTER_REQUEST kind 9, docs/local-protocol-v2.md): 0 misses of 200 in
# every mode (without it: 11-28 of 200 in dynamic and dynamic-private).


def stock_miss_bound(repeats):
    """A stock sharded node writes SSUBSCRIBE in join() but does not wait for
    Redis's reply (join() returns undefined), so it too misses now and then
    (seen in dynamic-private: 1 of 200, 6 of 1000). Its misses are not the
    subject here; the bound only catches a harness that delivers nothing."""
    return max(3, repeats // 20)
@pytest.mark.parametrize("mode,operation,options", __import__("test_join_races").CASES, ids=[c[0] for c in __import__("test_join_races").CASES])
def test_join_then_broadcast(clusters, mode, operation, options):
    """The races of issue 13 in a sharded cluster: S0 joins (or leaves) a fresh
    room on S, then at once A broadcasts to it (in the dynamic modes on the
    room's own channel, which S must already have SSUBSCRIBEd)."""
    from conftest import both
    from test_join_races import REPEATS, race, tally

    sharded_mode = clusters[0].sharded_mode
    baseline, mixed = both(lambda c: tally(race(c, "A", mode, operation, options), mode), *clusters)
    print(f"\nsharded {sharded_mode} {mode}: stock misses/wrong {baseline}, mixed {mixed}")
    assert baseline[1] == 0 and baseline[0] <= stock_miss_bound(REPEATS), f"all-stock cluster: {baseline[0]} misses, {baseline[1]} wrong of {REPEATS}"
    if mixed is None:
        return
    assert mixed == (0, 0), f"mixed cluster: {mixed[0]} misses, {mixed[1]} wrong deliveries of {REPEATS}"
