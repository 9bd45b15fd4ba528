#!/usr/bin/env python3
# What node connections cost busd, measured from outside (/proc/<pid>/status:
# Threads, VmRSS, VmHWM), issue 12:
#   (a) 1,000 connection attempts that never send HELLO (1.5 s and 6.5 s later);
#   (b) 10 connections that say HELLO and stop reading while 150 broadcasts of
#       1 MiB go through Redis at 20/s.
# Needs redis-server and .venv (redis, msgpack). Not part of run-all.sh.
#
#   ulimit -n 4096; .venv/bin/python bench/node-link-bounds.py .build/debug/busd 16411
import os, socket, struct, subprocess, sys, time, tempfile
import redis

busd_bin, port = sys.argv[1], int(sys.argv[2])
d = tempfile.mkdtemp(prefix="meas-")
rs = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", d],
                      stdout=subprocess.DEVNULL)
time.sleep(0.5)
sock = os.path.join(d, "busd.sock")

def status(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("Threads", "VmRSS", "VmHWM"):
            out[k] = v.strip()
    return out

def frame(t, body): return struct.pack(">IB", len(body) + 1, t) + body
def s(x): x = x.encode(); return struct.pack(">H", len(x)) + x

def start_busd():
    p = subprocess.Popen([busd_bin, "--redis", f"redis://127.0.0.1:{port}", "--socket", sock, "--node-id", "m1",
                          "--http", "off", "--log-level", "critical"], stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock): break
        time.sleep(0.05)
    time.sleep(0.3)
    return p

# (a) 1,000 connection attempts, never a HELLO
p = start_busd()
print("idle busd:", status(p.pid))
conns = []
for i in range(1000):
    c = socket.socket(socket.AF_UNIX)
    for attempt in range(200):
        try:
            c.connect(sock); conns.append(c); break
        except BlockingIOError:
            time.sleep(0.01)
        except OSError as e:
            break
time.sleep(1.5)
print(f"(a) {len(conns)} connected of 1000 attempts, 1.5 s later:", status(p.pid))
time.sleep(5)
print("(a) 6.5 s later:", status(p.pid))
for c in conns: c.close()
p.terminate(); p.wait()

# (b) 10 connections that stop reading, 1 MiB broadcasts
p = start_busd()
readers = []
for i in range(10):
    c = socket.socket(socket.AF_UNIX); c.connect(sock)
    c.sendall(frame(0x01, struct.pack(">H", 1) + s(f"n{i}") + struct.pack(">I", 1)))
    readers.append(c)
time.sleep(0.3)
readers[0].sendall(frame(0x10, s("/") + s("sockA") + struct.pack(">Q", 1)))
time.sleep(0.5)
r = redis.Redis(port=port)
import msgpack
payload = msgpack.packb(["emitter", {"type": 2, "data": ["big", "x" * (1 << 20)], "nsp": "/"},
                         {"rooms": [], "except": [], "flags": {}}])
for i in range(150):
    r.publish("socket.io#/#", payload)
    time.sleep(0.05)
    if i % 50 == 49: print(f"   after {i+1}:", status(p.pid))
time.sleep(3)
print("(b) 10 non-reading connections after 150 x 1 MiB broadcasts (20/s):", status(p.pid))
print("   subscriber still connected:", r.execute_command("PUBSUB", "NUMPAT"))
p.terminate(); p.wait()
for c in readers: c.close()
rs.terminate(); rs.wait()
