#!/usr/bin/env python3
"""Drives a running busd for bench/callgrind-busd.sh: a node of protocol
VERSION (1 by default) with one socket (SOCKET, in `/` and room `roomA`), and a
publisher that sends COUNT copies
of the 76-byte emitter capture (`emitter.to('roomA')`, seq 4 of
Tests/SocketIOCodecTests/Fixtures/captured.jsonl) on one of three channels:

  routed        socket.io#/#roomA#     one DELIVER per message
  room-miss     socket.io#/#roomZ#     a room the node lacks
  nsp-miss      socket.io#/empty#      a namespace busd subscribed, no socket in it

Every phase ends with one routed message, and the driver returns once its
DELIVER arrived: busd has handled everything before it (one subscriber, in
order), so the phases differ from each other and from a run of 2 x COUNT only
by what they publish.

A version 2 node announces `/` (NAMESPACE), asks for busd's registry filter
(CLUSTER_REQUEST kind 10, as the Node.js connector does) and joins the socket to its
own id room and `roomA` (ROOMS_JOIN); busd then writes DELIVER_TO_ROOMS.

    busd-drive.py REDIS_SOCKET NODE_SOCKET PHASE COUNT [VERSION]
"""
import socket
import struct
import sys
import time

CAPTURE = bytes.fromhex(
    "93a7656d697474657283a47479706502a46461746192a6746f526f6f6d81a4726f6f6da5726f6f6d41"
    "a36e7370a12f83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490"
)
# The same broadcast for the namespace `/empty` and no room (75 bytes).
CAPTURE_EMPTY = bytes.fromhex(
    "93a7656d697474657283a47479706502a46461746192a6746f526f6f6d81a4726f6f6da5726f6f6d41"
    "a36e7370a62f656d70747983a5726f6f6d7390a5666c61677380a665786365707490"
)
# 20 characters, as socket.io's base64id makes them (a shorter one would fit
# in a small String, and busd's copies of it would cost no reference counting).
SOCKET = "BenchSocketId0000001"
CHANNELS = {"routed": b"socket.io#/#roomA#", "room-miss": b"socket.io#/#roomZ#", "nsp-miss": b"socket.io#/empty#"}
PAYLOADS = {"routed": CAPTURE, "room-miss": CAPTURE, "nsp-miss": CAPTURE_EMPTY}


def frame(kind, body):
    return struct.pack(">IB", len(body) + 1, kind) + body


def string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def rooms(*names):
    return struct.pack(">I", len(names)) + b"".join(b"\x00" + string(n) for n in names)


class Node:
    def __init__(self, path, version):
        deadline = time.time() + 120
        while True:  # busd binds its socket before it accepts
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except (ConnectionRefusedError, FileNotFoundError):
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.pos = 0
        self.sock.sendall(frame(0x01, struct.pack(">H", version) + string("bench") + struct.pack(">I", 1)))
        assert self.next_frame()[0] == 0x02, "no WELCOME"
        now = int(time.time() * 1000)
        connect = frame(0x10, string("/") + string(SOCKET) + struct.pack(">Q", now))
        if version == 1:
            self.sock.sendall(connect + frame(0x12, string("/") + string(SOCKET) + struct.pack(">I", 1) + string("roomA")))
            self.deliver = 0x20
            return
        self.sock.sendall(
            frame(0x15, string("/"))
            # request 1, kind 10 (REGISTRY_FILTER), namespace, no timeout, empty body
            + frame(0x1B, struct.pack(">I", 1) + b"\x0a" + string("/") + struct.pack(">II", 0, 0))
            + connect
            + frame(0x16, string("/") + string(SOCKET) + rooms(SOCKET, "roomA"))
        )
        self.deliver = 0x26

    def next_frame(self):
        while True:
            if len(self.buf) - self.pos >= 4:
                (n,) = struct.unpack_from(">I", self.buf, self.pos)
                if len(self.buf) - self.pos >= 4 + n:
                    start = self.pos + 4
                    self.pos = start + n
                    return self.buf[start], self.buf[start + 1 : start + n]
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise SystemExit("busd closed the node link")
            self.buf = self.buf[self.pos :] + chunk
            self.pos = 0

    def wait_delivers(self, count):
        got = 0
        while got < count:
            kind, body = self.next_frame()
            if kind == self.deliver:
                got += 1
            elif kind == 0x04:  # PING: answer it
                self.sock.sendall(frame(0x05, body))


def redis_command(sock, *args):
    sock.sendall(resp(*args))
    data = b""
    while not data.endswith(b"\r\n"):
        data += sock.recv(65536)
    return data


def main():
    redis_path, node_path, phase, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    node = Node(node_path, int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    redis = socket.socket(socket.AF_UNIX)
    redis.connect(redis_path)
    # Subscribed once Redis counts busd's pattern; the node's frames are
    # handled by then too (a second to spare); then one routed probe.
    deadline = time.time() + 120
    while int(redis_command(redis, "PUBSUB", "NUMPAT")[1:-2]) < 2:  # `/` and `/empty`
        if time.time() > deadline:
            raise SystemExit("busd never subscribed")
        time.sleep(0.2)
    time.sleep(1)
    redis_command(redis, "PUBLISH", CHANNELS["routed"], CAPTURE)
    node.wait_delivers(1)
    # Pipelined, in chunks; replies read as they come so neither side blocks.
    one = resp("PUBLISH", CHANNELS[phase], PAYLOADS[phase])
    sent = 0
    replies = 0
    redis.setblocking(True)
    while sent < count:
        chunk = min(1000, count - sent)
        redis.sendall(one * chunk)
        sent += chunk
        while replies < sent - 5000:
            replies += redis.recv(1 << 20).count(b"\r\n")
    redis.sendall(resp("PUBLISH", CHANNELS["routed"], CAPTURE))
    expect = count + 1
    redis.settimeout(0.05)
    while replies < expect:
        try:
            replies += redis.recv(1 << 20).count(b"\r\n")
        except (TimeoutError, socket.timeout):
            pass
    node.wait_delivers(count + 1 if phase == "routed" else 1)


if __name__ == "__main__":
    main()
