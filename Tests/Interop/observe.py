"""One call on one cluster, and everything it did, in a form that compares
between clusters: the call's result or error, what every client received,
every socket's rooms afterwards, what every server's serverSideEmit
handlers got."""

import json
import time

from conftest import SETTLE, reset


def by_label(item):
    return str(item.get("label") if isinstance(item, dict) else item)


def answer_order(v):
    """Answers in a stable order: by who answered, then by content."""
    if isinstance(v, dict):
        return (str(v.get("label") or v.get("from") or ""), json.dumps(v, sort_keys=True))
    return ("", json.dumps(v, sort_keys=True))


def outcome_of(cluster, op, outcome, kw):
    outcome = dict(outcome)
    outcome.pop("ms", None)
    value = outcome.get("value")
    if "value" in outcome and value is None:  # undefined in JSON (Node) and None (Python) alike
        del outcome["value"]
    if op == "fetchSockets" and value is not None:
        outcome["value"] = cluster.sockets(value)
    elif op == "allRooms" and value is not None:
        outcome["value"] = cluster.rooms(value)
    elif isinstance(value, list):
        outcome["value"] = sorted(value, key=answer_order)
    if outcome.get("responses") is not None:
        outcome["responses"] = sorted(outcome["responses"], key=answer_order)
    elif "responses" in outcome:
        del outcome["responses"]
    return outcome


def rooms_now(cluster):
    rooms = {}
    for name, node in cluster.nodes.items():
        if "server" not in node.processes:
            continue
        for nsp in ("/", "/other") if node.kind != "python" else ("/",):
            result = cluster.call(name, "localSockets", nsp=nsp)
            for socket in result.get("value") or []:
                rooms[socket["label"]] = cluster.rooms(socket["rooms"])
    return rooms


def observe(cluster, issuer, op, acks=None, behaviour=None, settle=SETTLE, during=None, **kw):
    """Runs `op` on `issuer` ("A", "B", "S" or "E" for the emitter) after a
    reset; `during(cluster)` runs in parallel with the call (e.g. to kill a node)."""
    reset(cluster, acks, behaviour)
    started = time.monotonic()
    if during is not None:
        import threading

        thread = threading.Thread(target=during, args=(cluster,))
        thread.start()
    outcome = cluster.call(issuer, op, **kw)
    elapsed = time.monotonic() - started
    if during is not None:
        thread.join()
    time.sleep(settle)
    events = {label: list(received) for label, received in cluster.events().items()}
    received = {}
    for name, node in cluster.nodes.items():
        if "server" in node.processes and node.kind != "python":
            got = cluster.call(name, "received").get("value") or []
            if got:
                received[name] = got
    return {
        "outcome": outcome_of(cluster, op, outcome, kw),
        "events": events,
        "rooms": rooms_now(cluster),
        "serverSideEmit received": received,
        "elapsed": elapsed,
    }


def compare(baseline, mixed):
    """The parts that must be equal (elapsed is looked at by the tests that care)."""
    keys = ("outcome", "events", "rooms", "serverSideEmit received")
    return {k: baseline[k] for k in keys}, {k: mixed[k] for k in keys}
