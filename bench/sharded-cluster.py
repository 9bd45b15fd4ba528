#!/usr/bin/env python3
"""Routed throughput of busd with the sharded adapter on a Redis Cluster of
three masters, as the number of busd nodes grows, and what each busd receives.

    .venv/bin/python bench/sharded-cluster.py [--busds 1,2,4] [--seconds 5]
        [--mode dynamic] [--adapter sharded|classic] [--busd .build/release/busd]

Real parts: three `redis-server --cluster-enabled yes` masters joined by
`redis-cli --cluster create`, N real busd processes (release build), each
with a node: a local-protocol v2 client (this script, one process per busd)
with one socket in its own room `room-<i>` that reads DELIVER_TO_ROOMS
frames and answers PINGs. Publishers (two processes) SPUBLISH ClusterAdapter
BROADCAST messages (msgpack, as a stock `createShardedAdapter` node sends
them) on the room channels, each to the master owning the channel's slot:
every busd's room, and as many rooms that no node has a socket in.

Figures: messages delivered to the nodes per second (routed throughput),
Redis CPU per master (from /proc), and per busd what it read from Redis (`socketbus_messages_received_total`
from its /metrics) against what was published for its own room. In
`dynamic` mode a busd must read only its own room's traffic: the script
fails (exit 1) when a busd read more than was published to its room.
`--adapter classic` runs the same load through PUBLISH / PSUBSCRIBE for
comparison (every busd then reads every message).
"""
import argparse
import multiprocessing
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients", "python"))
import msgpack  # noqa: E402
import redis  # noqa: E402
from socketbus_connector import frames, frames_v2  # noqa: E402

DELIVER_TO_ROOMS = 0x26
DELIVER = 0x20
PING = 0x04


def log(message):
    print(f"sharded-cluster: {message}", file=sys.stderr, flush=True)


def free_port():
    while True:
        port = random.randint(20000, 45000)
        ok = True
        for candidate in (port, port + 10000):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", candidate))
                except OSError:
                    ok = False
        if ok:
            return port


class Cluster:
    """Three masters, no replicas (the fail-over is the tests' part)."""

    def __init__(self, directory):
        self.ports = []
        self.processes = []
        while len(self.ports) < 3:
            port = free_port()
            if port not in self.ports:
                self.ports.append(port)
        for port in self.ports:
            node = os.path.join(directory, str(port))
            os.makedirs(node)
            self.processes.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", os.path.join(node, "nodes.conf"), "--save", "", "--appendonly", "no",
                 "--dir", node, "--logfile", os.path.join(node, "redis.log")]))
        for port in self.ports:
            wait(lambda: self.cli(port, "PING") == "PONG", f"node {port}")
        create = subprocess.run(
            ["redis-cli", "--cluster", "create"] + [f"127.0.0.1:{p}" for p in self.ports]
            + ["--cluster-replicas", "0", "--cluster-yes"], capture_output=True, text=True)
        if create.returncode != 0:
            raise SystemExit(create.stdout + create.stderr)
        wait(lambda: all("cluster_state:ok" in self.cli(p, "CLUSTER", "INFO") for p in self.ports), "cluster_state:ok")
        self.owners = {}
        for start, end, master, *_ in redis.Redis(port=self.ports[0]).execute_command("CLUSTER", "SLOTS"):
            self.owners[(start, end)] = master[1]

    def cli(self, port, *args):
        result = subprocess.run(["redis-cli", "-p", str(port)] + list(args), capture_output=True, text=True)
        return result.stdout.strip()

    def owner(self, channel):
        slot = redis.Redis(port=self.ports[0]).execute_command("CLUSTER", "KEYSLOT", channel)
        for (start, end), port in self.owners.items():
            if start <= slot <= end:
                return port
        raise SystemExit(f"no owner for slot {slot}")

    def cpu_seconds(self):
        """CPU seconds each redis-server used so far (utime + stime)."""
        ticks = os.sysconf("SC_CLK_TCK")
        result = []
        for process in self.processes:
            with open(f"/proc/{process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            result.append((int(fields[11]) + int(fields[12])) / ticks)
        return result

    def stop(self):
        for process in self.processes:
            process.kill()
            process.wait()


def wait(predicate, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def node_process(path, room, ready, stop, counts, index):
    """A node: one socket in `room`; counts DELIVER frames until `stop`."""
    sock = socket.socket(socket.AF_UNIX)
    wait(lambda: sock.connect(path) is None, f"busd socket {path}")
    send = lambda frame: sock.sendall(frames.encode(frame))  # noqa: E731
    send(frames.Hello(version=2, node=f"bench-node-{index}", pid=os.getpid()))
    send(frames_v2.Namespace(namespace="/"))
    sid = f"bench-sid-{index}"
    send(frames.SocketConnect(namespace="/", socket_id=sid, connected_at=int(time.time() * 1000)))
    send(frames_v2.RoomsJoin(namespace="/", socket_id=sid, rooms=[sid, room]))
    ready.set()
    buffer = bytearray()
    delivered = 0
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            counts[index] = delivered
            continue
        if not chunk:
            break
        buffer += chunk
        offset = 0
        while len(buffer) - offset >= 5:
            length = struct.unpack_from(">I", buffer, offset)[0]
            if len(buffer) - offset - 4 < length:
                break
            kind = buffer[offset + 4]
            if kind in (DELIVER_TO_ROOMS, DELIVER):
                delivered += 1
            elif kind == PING:
                token = struct.unpack_from(">Q", buffer, offset + 5)[0]
                send(frames.Pong(token=token))
            offset += 4 + length
        del buffer[:offset]
        counts[index] = delivered
    counts[index] = delivered


def publisher_process(targets, adapter, seconds, start, published):
    """SPUBLISH (or PUBLISH) pre-encoded broadcasts round-robin over
    `targets` [(port, channel, payload)], pipelined per master."""
    clients = {port: redis.Redis(port=port) for port, _, _ in targets}
    command = "SPUBLISH" if adapter == "sharded" else "PUBLISH"
    start.wait()
    deadline = time.time() + seconds
    sent = [0] * len(targets)
    while time.time() < deadline:
        pipes = {port: client.pipeline(transaction=False) for port, client in clients.items()}
        for _ in range(50):
            for index, (port, channel, payload) in enumerate(targets):
                pipes[port].execute_command(command, channel, payload)
                sent[index] += 1
        for pipe in pipes.values():
            pipe.execute()
    for index, count in enumerate(sent):
        published[index] += count


def broadcast(room, adapter):
    packet = {"type": 2, "data": ["tick", {"room": room, "pad": "x" * 40}]}
    opts = {"rooms": [room], "except": [], "flags": {}}
    if adapter == "sharded":
        return msgpack.packb({"type": 3, "data": {"packet": packet, "opts": opts}, "uid": "benchpublisher01", "nsp": "/"})
    # Classic: [uid, packet, opts] as @socket.io/redis-adapter publishes it.
    return msgpack.packb(["benchpublisher01", dict(packet, nsp="/"), opts])


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\d+)", text, re.M)
    return int(match.group(1)) if match else 0


def run(cluster, directory, busd_bin, count, args):
    busds = []
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    counts = ctx.Array("q", count)
    nodes = []
    for index in range(count):
        path = os.path.join(directory, f"busd-{count}-{index}.sock")
        http = free_port()
        seed = cluster.ports[index % 3]
        command = [busd_bin, "--redis", f"redis://127.0.0.1:{seed}", "--node-id", f"bench-{count}-{index}",
                   "--socket", path, "--http", f"127.0.0.1:{http}", "--log-level", "error",
                   "--adapter", args.adapter]
        if args.adapter == "sharded":
            command += ["--sharded-subscription-mode", args.mode]
        busds.append((subprocess.Popen(command), http))
        ready = ctx.Event()
        node = ctx.Process(target=node_process, args=(path, f"room-{index}", ready, stop, counts, index))
        node.start()
        ready.wait(20)
        nodes.append(node)
    # Each busd subscribed to its room (dynamic) before the load starts.
    time.sleep(1.5)
    rooms = [f"room-{i}" for i in range(count)] + [f"nobody-{i}" for i in range(count)]
    targets = []
    for room in rooms:
        channel = f"socket.io#/#{room}#" if args.adapter == "sharded" else f"socket.io#/#{room}#"
        if args.adapter == "sharded" and args.mode == "static":
            channel = "socket.io#/#"
        port = cluster.owner(channel) if args.adapter == "sharded" else cluster.ports[rooms.index(room) % 3]
        targets.append((port, channel, broadcast(room, args.adapter)))
    received_before = [metric(http, "socketbus_messages_received_total") for _, http in busds]
    cpu_before = cluster.cpu_seconds()
    start = ctx.Event()
    published = ctx.Array("q", len(targets))
    publishers = [ctx.Process(target=publisher_process, args=(targets, args.adapter, args.seconds, start, published))
                  for _ in range(args.publishers)]
    for p in publishers:
        p.start()
    begun = time.time()
    start.set()
    for p in publishers:
        p.join()
    # Let the nodes drain what is in flight: until nothing arrived for a second.
    last, last_at = -1, time.time()
    while time.time() - last_at < 1.0:
        if sum(counts) != last:
            last, last_at = sum(counts), time.time()
        time.sleep(0.05)
    elapsed = max(args.seconds, last_at - begun)
    cpu_after = cluster.cpu_seconds()
    received = [metric(http, "socketbus_messages_received_total") - before
                for (_, http), before in zip(busds, received_before)]
    stop.set()
    for node in nodes:
        node.join(2)
    for process, _ in busds:
        process.terminate()
        process.wait()
    delivered = list(counts)
    own = list(published[:count])
    nobody = sum(published[count:])
    total = sum(published)
    print(f"| {count} | {total:,} | {total / args.seconds:,.0f} | {sum(delivered):,} | {sum(delivered) / elapsed:,.0f} | "
          + " / ".join(f"{r:,}" for r in received) + " | " + " / ".join(f"{o:,}" for o in own) + f" | {nobody:,} | "
          + " / ".join(f"{(a - b) / elapsed * 100:.0f}%" for a, b in zip(cpu_after, cpu_before))
          + f" | {sum(a - b for a, b in zip(cpu_after, cpu_before)) / max(1, total) * 1e6:.2f} |", flush=True)
    ok = True
    if args.adapter == "sharded" and args.mode != "static":
        for index, (r, o) in enumerate(zip(received, own)):
            if r > o:
                log(f"busd {index} read {r} messages, more than the {o} published to its room")
                ok = False
    for index, (d, o) in enumerate(zip(delivered, own)):
        if d < o:
            log(f"node {index} got {d} deliveries of the {o} published to its room (lost in Redis or busd)")
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--busds", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--mode", default="dynamic", choices=["static", "dynamic", "dynamic-private"])
    parser.add_argument("--adapter", default="sharded", choices=["sharded", "classic"])
    parser.add_argument("--busd", default=os.environ.get("SOCKETBUS_BUSD", ".build/release/busd"))
    args = parser.parse_args()
    busd_bin = shutil.which(args.busd) or args.busd
    if not os.access(busd_bin, os.X_OK):
        raise SystemExit(f"no busd at {busd_bin} (swift build -c release --product busd)")
    directory = tempfile.mkdtemp(prefix="sharded-bench-")
    log(f"starting a 3-master Redis Cluster in {directory}")
    cluster = Cluster(directory)
    ok = True
    try:
        print(f"adapter {args.adapter}" + (f", mode {args.mode}" if args.adapter == "sharded" else "")
              + f"; {args.publishers} publisher processes, {args.seconds:g} s per case; busd {busd_bin}")
        print()
        print("| busds | published | published/s | delivered to nodes | routed/s | read from Redis per busd "
              "| published to its room per busd | published to rooms with no socket | Redis CPU per master "
              "| Redis CPU µs per published message (3 masters) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for count in [int(c) for c in args.busds.split(",")]:
            log(f"{count} busd(s): started")
            ok = run(cluster, directory, busd_bin, count, args) and ok
            log(f"{count} busd(s): done")
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
