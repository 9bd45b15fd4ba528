"""The requests of @socket.io/redis-adapter 7.x/8.x as bytes on Redis: a
requester that is not a socket.io server publishes each request type on
`socket.io-request#/#` and reads every answer on `socket.io-response#/#`.
The answers of the all-stock cluster (A, B, S stock) and of the mixed one
(S socketbus) must be the same: the same messages, in the same encoding
(JSON, or msgpack for BROADCAST_ACK), and the same effect on the sockets.
This covers the legacy `sid` forms too, which no 8.3 server sends any more
but every 8.3 server still answers."""

import json
import threading
import time

import msgpack
import pytest
import redis

from conftest import both, reset
from interop_cluster import handshake_shape

REQUEST = "socket.io-request#/#"
RESPONSE = "socket.io-response#/#"
COLLECT = 0.8  # seconds of answers to collect (every server answers in a few ms)


def decode(raw):
    if raw[:1] == b"{":
        return "json", json.loads(raw)
    return "msgpack", msgpack.unpackb(raw, raw=False, strict_map_key=False)


def normalize(cluster, value):
    """Socket ids to labels, lists of plain values sorted."""
    if isinstance(value, dict) and isinstance(value.get("handshake"), dict):
        value = {**value, "handshake": handshake_shape(value["handshake"])}
    if isinstance(value, dict):
        return {k: normalize(cluster, v) for k, v in value.items() if k != "t"}
    if isinstance(value, list):
        items = [normalize(cluster, v) for v in value]
        if all(not isinstance(v, (dict, list)) for v in items):
            return sorted(items, key=lambda v: (type(v).__name__, str(v)))
        return sorted(items, key=json.dumps)
    if isinstance(value, str) and value in cluster.labels:
        return f"sid:{cluster.labels[value]}"
    return value


def exchange(cluster, build, encoding="json"):
    """Publishes build(cluster) after a reset; the answers seen in COLLECT s, and the rooms after."""
    reset(cluster)
    client = redis.Redis(port=cluster.redis_port)
    pubsub = client.pubsub()
    pubsub.subscribe(RESPONSE)
    pubsub.get_message(timeout=1.0)  # the subscribe confirmation
    request = build(cluster)
    payload = json.dumps(request).encode() if encoding == "json" else msgpack.packb(request)
    client.publish(REQUEST, payload)
    answers = []
    deadline = time.monotonic() + COLLECT
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.05)
        if message and message["type"] == "message":
            kind, body = decode(message["data"])
            answers.append({"encoding": kind, "body": normalize(cluster, body)})
    pubsub.close()
    client.close()
    time.sleep(0.2)
    from observe import rooms_now

    events = {label: got for label, got in cluster.events().items() if got}
    return {"answers": sorted(answers, key=json.dumps), "rooms": rooms_now(cluster), "events": events}


def sid(label):
    return lambda cluster: cluster.sids[label]


REQUESTS = {
    "SOCKETS": lambda c: {"uid": "raw", "requestId": "r0", "type": 0, "rooms": ["room1"]},
    "SOCKETS all": lambda c: {"uid": "raw", "requestId": "r0", "type": 0, "rooms": []},
    "ALL_ROOMS": lambda c: {"uid": "raw", "requestId": "r1", "type": 1},
    "REMOTE_JOIN sid S0": lambda c: {"uid": "raw", "requestId": "r2", "type": 2, "sid": c.sids["S0"], "room": "lj"},
    "REMOTE_JOIN sid A0": lambda c: {"uid": "raw", "requestId": "r2", "type": 2, "sid": c.sids["A0"], "room": "lj"},
    "REMOTE_JOIN opts": lambda c: {"uid": "raw", "type": 2, "opts": {"rooms": ["room1"], "except": []}, "rooms": ["oj"]},
    "REMOTE_LEAVE sid S1": lambda c: {"uid": "raw", "requestId": "r3", "type": 3, "sid": c.sids["S1"], "room": "room2"},
    "REMOTE_LEAVE opts": lambda c: {"uid": "raw", "type": 3, "opts": {"rooms": [123], "except": []}, "rooms": [123]},
    "REMOTE_DISCONNECT sid S0": lambda c: {"uid": "raw", "requestId": "r4", "type": 4, "sid": c.sids["S0"],
                                           "close": False},
    "REMOTE_DISCONNECT opts": lambda c: {"uid": "raw", "type": 4, "opts": {"rooms": ["room2"], "except": ["room1"]},
                                         "close": True},
    "REMOTE_FETCH": lambda c: {"uid": "raw", "requestId": "r5", "type": 5, "opts": {"rooms": [123], "except": []}},
    "REMOTE_FETCH all": lambda c: {"uid": "raw", "requestId": "r5", "type": 5, "opts": {"rooms": [], "except": []}},
    "SERVER_SIDE_EMIT": lambda c: {"uid": "raw", "type": 6, "data": ["interop", 1, "x"]},
    "SERVER_SIDE_EMIT ack": lambda c: {"uid": "raw", "requestId": "r6", "type": 6, "data": ["interop", {"q": 1}]},
    "SERVER_SIDE_EMIT emitter": lambda c: {"uid": "emitter", "type": 6, "data": ["interop", 2]},
}


def baseline_cluster(clusters):
    return clusters[0]


@pytest.mark.parametrize("name", list(REQUESTS))
def test_request_answered_alike(clusters, name):
    baseline, mixed = both(lambda c: exchange(c, REQUESTS[name]), *clusters)
    answers = [a["body"] for a in baseline["answers"]]
    if name.startswith(("SOCKETS", "ALL_ROOMS", "REMOTE_FETCH", "SERVER_SIDE_EMIT ack")):
        assert len(answers) == 3, baseline  # one per server
    elif " sid " in name:  # the legacy forms: the socket's owner answers {requestId}
        assert answers == [{"requestId": REQUESTS[name](baseline_cluster(clusters))["requestId"]}], baseline
    else:  # the opts forms and SERVER_SIDE_EMIT without ack have no answer
        assert answers == [], baseline
    if mixed is not None:
        assert mixed == baseline


BROADCASTS = {
    "room1": {"rooms": ["room1"], "except": []},
    "all except room1": {"rooms": [], "except": ["room1"]},
    "numeric room": {"rooms": [123], "except": []},
}


@pytest.mark.parametrize("name", list(BROADCASTS))
def test_broadcast_with_ack_request_answered_alike(clusters, name):
    """BROADCAST (type 7, msgpack): every server delivers to its matching
    clients, answers BROADCAST_CLIENT_COUNT (JSON), then one BROADCAST_ACK
    (msgpack) per client answer."""

    def build(cluster):
        return {"uid": "raw", "requestId": "r7", "type": 7,
                "packet": {"type": 2, "data": ["ask", 7], "nsp": "/"},
                "opts": {**BROADCASTS[name], "flags": {}}}

    baseline, mixed = both(lambda c: exchange(c, build, encoding="msgpack"), *clusters)
    counts = [a["body"] for a in baseline["answers"] if a["body"].get("type") == 8]
    assert len(counts) == 3 and all(a["encoding"] == "json" for a in baseline["answers"] if a["body"]["type"] == 8)
    assert all(a["encoding"] == "msgpack" for a in baseline["answers"] if a["body"]["type"] == 9)
    assert sum(c["clientCount"] for c in counts) == len([a for a in baseline["answers"] if a["body"]["type"] == 9])
    if mixed is not None:
        assert mixed == baseline
