"""The races of issue 13: socket.join(room) (or leave) on the subject server
S, and at once a broadcast from another server (stock A) or the emitter to
that room, or to everyone except that room. Once join()/leave() has
returned, every broadcast published after it must see it applied: no miss,
no delivery to an excepted socket. 200 repeats of each, a fresh room each
time; the stock cluster gives 0 of each.

S0 is the socket that joins; every other client is a witness that must get
exactly the broadcasts meant for it."""

import os

import pytest

from conftest import both, reset
from interop_cluster import wait_for

REPEATS = int(os.environ.get("INTEROP_RACE_REPEATS", "200"))
CASES = [
    # (mode, room operation on S0, broadcast options given the room)
    ("to-room-after-join", "join", lambda room: {"rooms": [room]}),
    ("except-room-after-join", "join", lambda room: {"except": [room]}),
    ("to-room-after-leave", "leave", lambda room: {"rooms": [room]}),
]


def target(cluster, broadcaster):
    if broadcaster == "E":
        return cluster.clients_port, lambda call: {"op": "emitter", "call": call}
    return cluster.nodes[broadcaster].port, lambda call: call


def race(cluster, broadcaster, mode, operation, options, subject="S", label="S0"):
    """`label`'s socket on server `subject` joins (or leaves) a fresh room, then at once
    `broadcaster` broadcasts with `options(room)`; REPEATS times. What every client got."""
    reset(cluster)
    sid = cluster.sids[label]
    port, wrap = target(cluster, broadcaster)
    rooms = [f"{mode}-{i}" for i in range(REPEATS)]
    if operation == "leave":
        assert "error" not in cluster.call(subject, "join", sid=sid, rooms=rooms)
    for i, room in enumerate(rooms):
        then = wrap({"op": "broadcast", "event": "race", "args": [i], **options(room)})
        outcome = cluster.call(subject, "joinThen", sid=sid, url=f"http://127.0.0.1:{port}/control", then=then,
                               **{operation: room})
        assert "error" not in outcome and "error" not in outcome["value"], outcome
    # A last broadcast to everyone from the same publisher: once every client
    # has it, every race broadcast before it has arrived (one Redis connection).
    assert "error" not in cluster.call(broadcaster, "broadcast", event="end")
    seen = {label: [] for label in cluster.sids}

    def ended():
        for label, events in cluster.events().items():
            seen[label].extend(events)
        return all(any(e[0] == "end" for e in events) for events in seen.values())

    wait_for(ended, timeout=10, what="the closing broadcast at every client")
    return {label: [e[1] for e in events if e[0] == "race"] for label, events in seen.items()}


def tally(got, mode, subject_label="S0"):
    """(misses, wrong deliveries) against what each client must get."""
    everything = list(range(REPEATS))
    if mode == "to-room-after-join":
        wanted = {label: everything if label == subject_label else [] for label in got}
    elif mode == "except-room-after-join":
        wanted = {label: [] if label == subject_label else everything for label in got}
    else:  # S0 left the room before each broadcast: nobody is in it
        wanted = {label: [] for label in got}
    misses = sum(len(set(wanted[label]) - set(got[label])) for label in got)
    wrong = sum(len(got[label]) - len(set(got[label]) & set(wanted[label])) for label in got)
    return misses, wrong


@pytest.mark.parametrize("broadcaster", ["A", "E"])
@pytest.mark.parametrize("mode,operation,options", CASES, ids=[c[0] for c in CASES])
def test_join_then_broadcast(clusters, broadcaster, mode, operation, options):
    results = both(lambda c: tally(race(c, broadcaster, mode, operation, options), mode), *clusters)
    baseline, mixed = results
    print(f"\n{mode} from {broadcaster}: stock misses/wrong {baseline}, mixed {mixed}")
    assert baseline == (0, 0), f"all-stock cluster: {baseline[0]} misses, {baseline[1]} wrong deliveries of {REPEATS}"
    if mixed is not None:
        assert mixed == (0, 0), f"mixed cluster: {mixed[0]} misses, {mixed[1]} wrong deliveries of {REPEATS}"
