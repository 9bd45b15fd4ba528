"""Fixtures of the interop suite: an all-stock cluster and a mixed one of the
same shape, each on its own redis-server, started once per module; every
test connects fresh clients (reset) and runs the same call in both."""

import sys
import threading
import time
from pathlib import Path

import pytest
import redis as redis_py

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interop_cluster import Cluster, missing_parts, wait_for  # noqa: E402

# A and B: stock servers in both clusters. S: the subject, a socketbus server
# in the mixed cluster and a stock server in the baseline.
BASELINE = {"A": "stock", "B": "stock", "S": "stock"}
MIXED = {"A": "stock", "B": "stock", "S": "socketbus"}

# label, server, rooms (numbers stay numbers), how the client answers acked events
CLIENTS = [
    ("A0", "A", ["room1", 123], "ack"),
    ("A1", "A", ["room2"], "ack"),
    ("B0", "B", ["room1", "room2"], "ack"),
    ("B1", "B", [], "ack"),
    ("S0", "S", ["room1"], "ack"),
    ("S1", "S", ["room2", 123], "ack"),
]

# How long a call's effects take to show everywhere (loopback, a few hops).
SETTLE = 0.3


def pytest_collection_modifyitems(config, items):
    reason = missing_parts()
    if reason:
        for item in items:
            if "Interop" in str(item.fspath) and "upstream" not in item.name:
                item.add_marker(pytest.mark.skip(reason=f"interop: cannot run here: {reason}"))


def reset(cluster, acks=None, behaviour=None):
    """Fresh clients in the standard rooms; every server acks serverSideEmit at once."""
    acks = acks or {}
    behaviour = behaviour or {}
    up = {name for name, node in cluster.nodes.items() if "server" in node.processes}
    for name in up:
        cluster.call(name, "configure", behaviour={"serverSideEmit": behaviour.get(name, "ack")})
        cluster.call(name, "received")
    wait_whole(cluster, up)
    cluster.connect([(c[0], c[1], c[2], acks.get(c[0], c[3]), *c[4:]) for c in CLIENTS if c[1] in up])
    # A socketbus server tells its busd about joins asynchronously.
    time.sleep(0.15)
    cluster.events()


def wait_whole(cluster, up):
    """Every live server counted by PUBSUB NUMSUB (a socketbus server through
    its busd) and linked to its busd: a server restarted by the test before
    is back before the next call, as the requester's serverCount() sees it."""
    counted = sum(1 for node in cluster.nodes.values()
                  if ("busd" if node.kind in ("socketbus", "python") else "server") in node.processes)
    redis = redis_py.Redis.from_url(cluster.redis_url)
    try:
        if cluster.sharded_mode:
            wait_for(lambda: shard_count(redis, "socket.io#/#") == counted,
                     what=f"{counted} servers counted on socket.io#/# (SHARDNUMSUB)")
        else:
            wait_for(lambda: dict(redis.pubsub_numsub("socket.io-request#/#")).get(b"socket.io-request#/#") == counted,
                     what=f"{counted} servers counted on socket.io-request#/#")
    finally:
        redis.close()
    for name in up:
        if cluster.nodes[name].kind == "socketbus":
            wait_for(lambda: cluster.call(name, "linked").get("value"), what=f"{name} linked to its busd")


def shard_count(redis, channel):
    """PUBSUB SHARDNUMSUB of one channel (the sharded adapter's serverCount)."""
    reply = redis.execute_command("PUBSUB", "SHARDNUMSUB", channel)
    return int(reply[1])


def both(function, *clusters):
    """function(cluster) on each cluster at once (threads); the results in order."""
    clusters = [c for c in clusters if c is not None]
    results = [None] * len(clusters)
    errors = []

    def run(i, cluster):
        try:
            results[i] = function(cluster)
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clusters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results if len(results) == 2 else (results[0], None)


def wanted_clusters():
    """INTEROP_CLUSTERS=baseline runs the all-stock cluster alone (its own
    checks, no comparison): the baseline must pass by itself."""
    import os

    only = os.environ.get("INTEROP_CLUSTERS", "")
    return (("baseline", BASELINE),) if only == "baseline" else (("baseline", BASELINE), ("mixed", MIXED))


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    started = []
    try:
        for name, shape in wanted_clusters():
            started.append(Cluster(tmp_path_factory.mktemp(name), shape))
        yield tuple(started) if len(started) == 2 else (started[0], None)
    finally:
        for cluster in started:
            cluster.stop()
