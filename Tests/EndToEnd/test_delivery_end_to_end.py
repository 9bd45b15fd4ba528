"""End to end on real parts: redis-server, busd, a python-socketio server
with the socketbus connector, and Socket.IO clients.

A real emitter's captured bytes, published on Redis, must reach a client as
the frame the real socket.io 4.8 cluster produced, with busd's ack id
spliced in; the client's ack must come back as a confirmation; busctl emit
--wait-ack must report delivered / timeout / disconnected."""

import hashlib
import json
import re

import socketio

from conftest import RawClient, captures, wait_for

ACK_BASE = 1 << 52
# Engine.IO "4", the Socket.IO type, attachments "<n>-", a namespace "/nsp,".
PREFIX = re.compile(r"^(4\d)(\d+-)?(/[^,]*,)?")


def splice(frame: str, ack_id: int) -> str:
    """The captured frame with an ack id where socket.io puts one."""
    head = PREFIX.match(frame).group(0)
    return head + str(ack_id) + frame[len(head):]


def ack_id_of(frame: str) -> int:
    head = PREFIX.match(frame).group(0)
    return int(re.match(r"\d+", frame[len(head):]).group(0))


def deliverable(capture) -> bool:
    """Broadcasts in '/' a client in roomA, roomB and joinedRemote receives."""
    if capture.get("message") != "broadcast packet [uid, packet, opts]" or not capture.get("client_frame"):
        return False
    if not capture["channel"].startswith("socket.io#/#"):
        return False
    room = capture["channel"][len("socket.io#/#"):].rstrip("#")
    excluded = "exceptOnly" in capture["client_frame"]
    return room in ("", "roomA", "roomB", "joinedRemote") and not excluded


def join(client: RawClient, stack, rooms):
    client.send("420" + json.dumps(["join", rooms]))
    assert client.next() == '430["joined"]'
    # The connector reports the joins to busd asynchronously: probe the last room until it delivers.
    probe = 0

    def arrived():
        nonlocal probe
        probe += 1
        stack.busctl("emit", "probe", str(probe), "--to", rooms[-1])
        try:
            frame = client.next(timeout=0.3)
        except AssertionError:
            return False
        assert frame.startswith("42") and '["probe",' in frame
        client.send(f"43{ack_id_of(frame)}[]")
        return True

    wait_for(arrived, what="the joins to reach busd")


def test_captured_emitter_bytes_reach_the_client_as_the_real_cluster_frame_plus_an_ack_id(stack):
    client = RawClient(stack.http_port)
    join(client, stack, ["roomA", "roomB", "joinedRemote"])
    wait_for(lambda: stack.busctl("find-socket", client.sid).returncode == 0, what="the socket in the registry")

    checked = 0
    last_id = 0
    for capture in filter(deliverable, captures()):
        payload = bytes.fromhex(capture["hex"])
        assert stack.redis.publish(capture["channel"], payload) >= 1
        frame = client.next()
        ack_id = ack_id_of(frame)
        assert ACK_BASE < ack_id < 2 ** 53 and ack_id > last_id, frame
        last_id = ack_id
        # Byte for byte what the real cluster sent, with the id socket.io's way.
        assert frame == splice(capture["client_frame"], ack_id), capture["description"]
        for attachment in capture.get("client_frame_attachments", []):
            assert client.next() == bytes.fromhex(attachment)
        client.send(f'43{ack_id}["ok",{checked}]')
        message_id = hashlib.sha256(payload).hexdigest()[:32]

        def confirmed():
            records = stack.records(message_id)
            return [r for r in records if r["type"] == "confirmation"]

        confirmation = wait_for(confirmed, what=f"the confirmation of {capture['description']}")[0]
        assert confirmation["status"] == "delivered"
        assert confirmation["socketId"] == client.sid and confirmation["node"] == "e2e-node"
        assert confirmation["args"] == ["ok", checked]
        checked += 1
    assert checked >= 10

    # The capture that excludes roomA never reaches this client.
    excluded = next(c for c in captures() if c.get("client_frame", "").startswith('42["exceptOnly"'))
    stack.redis.publish(excluded["channel"], bytes.fromhex(excluded["hex"]))
    stack.busctl("emit", "sentinel", "--to", "roomA")
    assert '["sentinel"]' in client.next()
    client.close()


def test_busctl_emit_wait_ack_to_a_python_socketio_client_exits_zero(stack):
    client = socketio.Client()
    client.on("news", lambda data: {"thanks": data["n"]})
    client.connect(f"http://127.0.0.1:{stack.http_port}", transports=["websocket"])
    try:
        sid = client.get_sid("/")
        wait_for(lambda: stack.busctl("find-socket", sid).returncode == 0, what="the socket in the registry")
        result = stack.busctl("emit", "news", '{"n":7}', "--to", sid, "--wait-ack", "--timeout", "5s", "--id", "e2e-news")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "delivered" in result.stdout and '{"thanks":7}' in result.stdout
        assert "1/1 delivered" in result.stdout
        stored = stack.busctl("acks", "e2e-news", "--json")
        records = json.loads(stored.stdout)
        assert [r["type"] for r in records] == ["dispatched", "confirmation"]
        assert records[1]["args"] == [{"thanks": 7}]
    finally:
        client.disconnect()


def test_busctl_emit_wait_ack_reports_timeout_for_a_client_that_never_acks(stack):
    client = RawClient(stack.http_port)
    wait_for(lambda: stack.busctl("find-socket", client.sid).returncode == 0, what="the socket in the registry")
    result = stack.busctl("emit", "silent", "--to", client.sid, "--wait-ack", "--timeout", "2s")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "timeout" in result.stdout and client.sid in result.stdout
    frame = client.next()
    assert frame == f'42{ack_id_of(frame)}["silent"]'
    client.close()


def test_busctl_emit_wait_ack_reports_disconnected_for_a_client_that_leaves(stack):
    client = RawClient(stack.http_port, close_on='["bye"]')
    wait_for(lambda: stack.busctl("find-socket", client.sid).returncode == 0, what="the socket in the registry")
    result = stack.busctl("emit", "bye", "--to", client.sid, "--wait-ack", "--timeout", "5s")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "disconnected" in result.stdout and client.sid in result.stdout
