#!/usr/bin/env python3
"""busd's CPU per message with the real binary, against a C anchor, in one run.

Started by bench/anchor/run.sh (which builds the C parts and busd); see
bench/README.md. Every part is a real process on loopback: redis-server on a
Unix socket, the release busd, the C node (node.c), the C anchor subscriber
(sub.c) and the C publisher (pub.c). CPU is read from outside, from
/proc/<pid>/task/*/schedstat (nanoseconds on CPU, every thread), before the
first message and after the last, divided by the number of messages.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from reports import CAPTURE_DESCRIPTION, machine, percentile, read_samples, report_cpu, report_latency, report_memory

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VECTORS = os.path.join(ROOT, "..", "shared", "vectors", "captured.jsonl")

# The sentinel: emitter.of('/chat').emit(...), 78 bytes, on socket.io#/chat#;
# the node's socket T in /chat receives it in every state, after every
# message of the case (one subscriber connection keeps the order).
SENTINEL_DESCRIPTION = "emitter.of('/chat').emit('findSocket', {hello:'chat'})  (whole /chat namespace)"


def log(message):
    print(f"anchor-bench: {message}", file=sys.stderr, flush=True)


def load_vectors():
    capture = sentinel = None
    with open(VECTORS) as f:
        for line in f:
            vector = json.loads(line)
            if vector["description"] == CAPTURE_DESCRIPTION:
                capture = vector
            if vector["description"] == SENTINEL_DESCRIPTION:
                sentinel = vector
    if capture is None or sentinel is None:
        sys.exit(f"anchor-bench: the captures were not found in {VECTORS}")
    if len(bytes.fromhex(capture["hex"])) != 76:
        sys.exit("anchor-bench: the capture is not 76 bytes")
    return capture, sentinel


def minor_faults(pid):
    """Minor page faults of the whole process so far (/proc/<pid>/stat field 10)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[7])


def cpu_ns(pid):
    """Nanoseconds on CPU of every thread of pid, and per thread name."""
    total, threads = 0, {}
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            with open(f"{base}/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue  # a thread that just ended
        total += ns
        threads[name] = threads.get(name, 0) + ns
    return total, threads


def stat_ticks_ns(pid):
    """utime + stime of the whole process (/proc/<pid>/stat, clock ticks), in ns: a cross-check of cpu_ns."""
    with open(f"/proc/{pid}/stat") as f:
        fields_after_name = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields_after_name[11]) + int(fields_after_name[12])
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:")):
                key, value = line.split(":")
                values[key] = int(value.split()[0]) * 1024
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Pss:", "Private_Dirty:")):
                    key, value = line.split(":")
                    values[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return values


class Line:
    """A child whose standard output is read a line at a time, with a time limit."""

    def __init__(self, argv, name, stdin=True):
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def expect(self, prefix, timeout=60):
        import select

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{self.name}: no '{prefix}' within {timeout} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{self.name} exited (code {self.proc.wait()}) before '{prefix}'")
                if line.startswith(prefix):
                    return line.strip()

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except (OSError, AttributeError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def fields(line):
    return {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}


class Bench:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="anchor-bench-")
        self.redis_sock = os.path.join(self.dir, "redis.sock")
        self.busd_sock = os.path.join(self.dir, "busd.sock")
        self.bin = args.bin_dir
        self.capture, self.sentinel = load_vectors()
        self.children = []
        self.idle_us_per_s = []
        self.cross_check = [0, 0]  # busd's CPU over every case: schedstat, utime + stime

    # -- processes --------------------------------------------------------

    def start_redis(self):
        self.redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.redis_sock, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        self.wait_for(lambda: os.path.exists(self.redis_sock), "redis-server's socket")

    def redis_cli(self, *command):
        return subprocess.run(["redis-cli", "-s", self.redis_sock, *command], capture_output=True, text=True).stdout.strip()

    def wait_for(self, check, what, timeout=30):
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {what} within {timeout} s")
            time.sleep(0.05)

    def start_busd(self, protocol):
        if os.path.exists(self.busd_sock):
            os.unlink(self.busd_sock)
        self.busd = subprocess.Popen(
            [self.args.busd, "--redis", f"unix://{self.redis_sock}", "--socket", self.busd_sock,
             "--node-id", "anchor-bench", "--http", self.args.busd_http or "off", "--log-level", "warning"],
            env={**os.environ, **self.args.busd_env},
        )
        self.wait_for(lambda: os.path.exists(self.busd_sock) or self.busd.poll() is not None, "busd socket")
        if self.busd.poll() is not None:
            raise RuntimeError(f"busd exited with {self.busd.returncode}")
        asks_filter = protocol == 2 and not self.args.no_registry_filter
        self.node = Line([os.path.join(self.bin, "node"), self.busd_sock, str(protocol)] + (["filter"] if asks_filter else []), "node")
        self.node.expect("ready", 30)
        # busd's patterns for "/" and "/chat" confirmed by Redis
        self.wait_for(lambda: self.redis_cli("PUBSUB", "NUMPAT") == "2", "PSUBSCRIBE of / and /chat")
        # busd's own CPU with no traffic (timers, mirror, heartbeats), to judge what a case's window includes
        before, _ = cpu_ns(self.busd.pid)
        time.sleep(1)
        after, _ = cpu_ns(self.busd.pid)
        self.idle_us_per_s.append((after - before) / 1000)

    def stop_busd(self):
        self.node.send("quit")
        self.node.stop()
        self.busd.send_signal(signal.SIGTERM)
        try:
            self.busd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.busd.kill()
            self.busd.wait()
        self.wait_for(lambda: self.redis_cli("PUBSUB", "NUMPAT") == "0", "busd's patterns gone")

    def publish(self, channel, hex_payload, count, sentinel=True, rate=None, latency_out=None):
        argv = [os.path.join(self.bin, "pub"), self.redis_sock, channel, hex_payload, str(count)]
        if sentinel:
            argv += ["--sentinel", self.sentinel["channel"], self.sentinel["hex"]]
        if rate:
            argv += ["--rate", str(rate)]
        if latency_out:
            argv += ["--latency-every", str(self.args.latency_every), "--latency-at", str(self.sample_offset()),
                     "--latency-out", latency_out]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)

    def sample_offset(self):
        """Where the packet's data holds "roomA" ({room: 'roomA'}: fixstr 'room', fixstr of 5):
        the latency samples carry their sequence number there (not in the channel, not in opts)."""
        raw = bytes.fromhex(self.capture["hex"])
        key = b"\xa4room\xa5"
        at = raw.find(key)
        if at < 0 or raw[at + len(key):at + len(key) + 5] != b"roomA" or raw.find(key, at + 1) >= 0:
            raise RuntimeError("the capture's data has no single {room: 'roomA'}")
        return at + len(key)

    # -- cases ------------------------------------------------------------

    def run_anchor(self, n):
        sub = Line([os.path.join(self.bin, "sub"), self.redis_sock, "socket.io#/#*", str(n)], "anchor")
        sub.expect("ready")
        before, _ = cpu_ns(sub.proc.pid)
        pub = self.publish(self.capture["channel"], self.capture["hex"], n, sentinel=False, rate=self.args.rate)
        done = fields(sub.expect("done", 300))
        after, _ = cpu_ns(sub.proc.pid)
        pub.wait()
        sub.send("")
        sub.stop()
        if done["decoded"] != n:
            raise RuntimeError(f"anchor decoded {done['decoded']} of {n}")
        return (after - before) / n / 1000, {}

    def run_busd_case(self, case, protocol, n):
        self.node.send(f"setup {case}")
        self.node.expect("ok")
        self.node.send("arm")
        self.node.expect("armed")
        channel = "socket.io#/#" if case == "nsmiss" else self.capture["channel"]
        ticks_before = stat_ticks_ns(self.busd.pid)
        before, threads_before = cpu_ns(self.busd.pid)
        pub = self.publish(channel, self.capture["hex"], n, rate=self.args.rate)
        done = fields(self.node.expect("done", 300))
        after, threads_after = cpu_ns(self.busd.pid)
        self.cross_check[0] += after - before
        self.cross_check[1] += stat_ticks_ns(self.busd.pid) - ticks_before
        pub.wait()
        expected_targets = n if case == "routed" else 0
        # A v2 node that asked for busd's registry filter gets no frame for a miss either.
        expected_frames = n if (case == "routed" or (protocol == 2 and self.args.no_registry_filter)) else 0
        if done["targets"] != expected_targets or done["delivers"] != expected_frames:
            raise RuntimeError(f"{case} v{protocol}: {done}, expected {expected_frames} frames, {expected_targets} targets")
        threads = {k: (threads_after.get(k, 0) - threads_before.get(k, 0)) / n / 1000 for k in threads_after}
        return (after - before) / n / 1000, {k: v for k, v in threads.items() if v >= 0.005}

    # -- latency ----------------------------------------------------------

    def latency_case(self, who, protocol=None):
        """Publish → receive of every --latency-every'th message, paced: for the
        anchor at its subscriber, for busd at the C node (the frame carrying it)."""
        a = self.args
        n = a.latency_messages
        sent_file = os.path.join(self.dir, "latency-sent.txt")
        got_file = os.path.join(self.dir, "latency-received.txt")
        for path in (sent_file, got_file):
            if os.path.exists(path):
                os.unlink(path)
        if who == "anchor":
            sub = Line([os.path.join(self.bin, "sub"), self.redis_sock, "socket.io#/#*", str(n), got_file], "anchor")
            sub.expect("ready")
            pub = self.publish(self.capture["channel"], self.capture["hex"], n, sentinel=False,
                               rate=a.latency_rate, latency_out=sent_file)
            sub.expect("done", 300)
            pub.wait()
            sub.send("")
            sub.stop()
        else:
            self.node.send("setup routed")
            self.node.expect("ok")
            self.node.send("arm")
            self.node.expect("armed")
            pub = self.publish(self.capture["channel"], self.capture["hex"], n, rate=a.latency_rate,
                               latency_out=sent_file)
            done = fields(self.node.expect("done", 300))
            pub.wait()
            if done["targets"] != n:
                raise RuntimeError(f"latency v{protocol}: {done}, expected {n} targets")
            self.node.send(f"latency {got_file}")
            self.node.expect("latency written", 60)
        if pub.returncode != 0:
            raise RuntimeError(f"pub exited with {pub.returncode}")
        sent = read_samples(sent_file)
        got = read_samples(got_file)
        delays = sorted((got[k] - t) / 1000 for k, t in sent.items() if k in got)
        return {"sent": len(sent), "received": len(delays), "delays": delays}

    def latency_rounds(self):
        a = self.args
        results = {}
        for r in range(a.latency_rounds):
            log(f"latency round {r + 1}/{a.latency_rounds}: {a.latency_messages} messages at {a.latency_rate} msg/s, "
                f"every {a.latency_every}th timed")
            result = self.latency_case("anchor")
            results.setdefault("anchor", []).append(result)
            log(f"  anchor: p99 {percentile(result['delays'], 99):.0f} µs")
            for protocol in a.protocols:
                self.start_busd(protocol)
                try:
                    result = self.latency_case("busd", protocol)
                finally:
                    self.stop_busd()
                results.setdefault(f"routed v{protocol}", []).append(result)
                log(f"  routed v{protocol}: p99 {percentile(result['delays'], 99):.0f} µs")
        return results

    # -- runs -------------------------------------------------------------

    def cpu_rounds(self):
        a = self.args
        results = {}  # name -> list of µs per round
        threads = {}
        cases = ["routed", "roommiss", "nsmiss"]
        for r in range(a.rounds):
            log(f"round {r + 1}/{a.rounds}")
            results.setdefault("anchor", []).append(self.run_anchor(a.messages)[0])
            order = a.protocols if r % 2 == 0 else list(reversed(a.protocols))
            for protocol in order:
                self.start_busd(protocol)
                try:
                    case_order = cases if r % 2 == 0 else list(reversed(cases))
                    for case in case_order:
                        name = f"{case} v{protocol}"
                        us, split = self.run_busd_case(case, protocol, a.messages)
                        results.setdefault(name, []).append(us)
                        threads.setdefault(name, []).append(split)
                        log(f"  {name}: {us:.3f} µs/msg")
                finally:
                    self.stop_busd()
        return results, threads

    def perf_pass(self):
        """One extra pass of each busd case under `perf record` (not counted in
        the medians: the sampling costs busd CPU). Prints each case's top symbols."""
        a = self.args
        out_dir = a.perf_dir or os.path.join(ROOT, "bench", ".build", "anchor", "perf")
        os.makedirs(out_dir, exist_ok=True)
        reports = []
        for protocol in a.protocols:
            self.start_busd(protocol)
            try:
                for case in ["routed", "roommiss", "nsmiss"]:
                    if a.perf != "all" and case not in a.perf.split(","):
                        continue
                    data = os.path.join(out_dir, f"perf-{case}-v{protocol}.data")
                    self.node.send(f"setup {case}")
                    self.node.expect("ok")
                    self.node.send("arm")
                    self.node.expect("armed")
                    recorder = subprocess.Popen(
                        ["perf", "record", "-q", "-F", "2999", "-g", "-p", str(self.busd.pid), "-o", data],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )
                    time.sleep(0.5)
                    channel = "socket.io#/#" if case == "nsmiss" else self.capture["channel"]
                    pub = self.publish(channel, self.capture["hex"], a.messages, rate=a.rate)
                    self.node.expect("done", 300)
                    pub.wait()
                    recorder.send_signal(signal.SIGINT)
                    recorder.wait(timeout=60)
                    report = subprocess.run(
                        ["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "comm,symbol",
                         "--percent-limit", "1.5", "-g", "none"],
                        capture_output=True, text=True,
                    ).stdout
                    lines = [re.sub(r"(\s+-)+\s*$", "", l).rstrip() for l in report.splitlines() if l.strip() and not l.startswith("#")]
                    lines = demangle(lines)
                    by_library = subprocess.run(
                        ["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "comm,dso",
                         "--percent-limit", "2", "-g", "none"],
                        capture_output=True, text=True,
                    ).stdout
                    lines = [l.rstrip() for l in by_library.splitlines() if l.strip() and not l.startswith("#")][:10] + [""] + lines
                    reports.append((f"{case} v{protocol}", data, lines[:30]))
                    log(f"perf: {case} v{protocol} -> {data}")
            finally:
                self.stop_busd()
        print(f"busd under perf record (cpu-clock, 2999 Hz, call graphs; one extra pass per case, "
              f"{a.messages} messages, not in the medians). By thread and library (≥ 2 %), then top symbols by thread (≥ 1.5 % of samples):")
        print()
        for name, data, lines in reports:
            print(f"{name} ({data}):")
            print("```")
            print("\n".join(lines))
            print("```")
            print()

    def memory(self):
        a = self.args
        self.start_busd(a.memory_protocol)
        samples = []
        try:
            time.sleep(2)
            base = rss_bytes(self.busd.pid)
            samples.append((0, base))
            log(f"memory: 0 sockets, VmRSS {base['VmRSS'] / 1e6:.1f} MB")
            registered = 0
            for target in a.memory_sockets:
                while registered < target:
                    step = min(a.memory_batch, target - registered)
                    self.node.send(f"connect {step}")
                    self.node.expect("ok", 300)
                    registered += step
                self.settle()
                sample = rss_bytes(self.busd.pid)
                samples.append((registered, sample))
                log(f"memory: {registered} sockets, VmRSS {sample['VmRSS'] / 1e6:.1f} MB, "
                    f"{(sample['VmRSS'] - base['VmRSS']) / registered:.0f} B/socket")
            load = self.load() if a.minutes > 0 else None
        finally:
            self.stop_busd()
        return samples, load

    def settle(self):
        """Wait until busd has written the registry to Redis and its RSS stops moving."""
        deadline = time.monotonic() + 120
        last = -1
        while time.monotonic() < deadline:
            time.sleep(2)
            rss = rss_bytes(self.busd.pid)["VmRSS"]
            if abs(rss - last) < 256 * 1024:
                return
            last = rss

    def load(self):
        a = self.args
        seconds = a.minutes * 60
        total = int(a.load_rate * seconds)
        self.node.send("setup routed")
        self.node.expect("ok")
        self.node.send("arm")
        self.node.expect("armed")
        log(f"load: {a.load_rate} msg/s for {a.minutes} min, RSS every {a.sample_seconds} s")
        start = time.monotonic()
        cpu_start, _ = cpu_ns(self.busd.pid)
        faults_start = minor_faults(self.busd.pid)
        pub = self.publish(self.capture["channel"], self.capture["hex"], total, rate=a.load_rate)
        samples = []
        while pub.poll() is None:
            t = time.monotonic() - start
            samples.append((t, rss_bytes(self.busd.pid)["VmRSS"]))
            log(f"load: {t:6.0f} s VmRSS {samples[-1][1] / 1e6:.1f} MB")
            next_at = start + len(samples) * a.sample_seconds
            while pub.poll() is None and time.monotonic() < next_at:
                time.sleep(0.2)
        published = pub.stdout.read().strip()
        done = fields(self.node.expect("done", 120))
        cpu_end, _ = cpu_ns(self.busd.pid)
        faults = minor_faults(self.busd.pid) - faults_start
        trims = self.scrape("socketbus_malloc_trims_total") if a.busd_http else None
        samples.append((time.monotonic() - start, rss_bytes(self.busd.pid)["VmRSS"]))
        return {"samples": samples, "published": published, "node": done, "total": total,
                "busd_cpu_us": (cpu_end - cpu_start) / total / 1000, "faults_per_kmsg": faults * 1000 / total,
                "malloc_trims": trims}

    def scrape(self, name):
        """One sample of busd's /metrics (with --busd-http), or None where it has none."""
        import urllib.request
        with urllib.request.urlopen(f"http://{self.args.busd_http}/metrics", timeout=10) as page:
            for line in page.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        return None

    def close(self):
        for proc in [getattr(self, "busd", None), getattr(self, "redis", None)]:
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def demangle(lines):
    """Swift symbols in readable form, where `swift demangle` is at hand."""
    try:
        done = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(lines),
                              capture_output=True, text=True, timeout=60)
        return done.stdout.splitlines() if done.returncode == 0 else lines
    except (OSError, subprocess.TimeoutExpired):
        return lines



def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=200000)
    parser.add_argument("--busd", default=os.path.join(ROOT, ".build", "release", "busd"))
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--busd-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for busd alone (e.g. MALLOC_ARENA_MAX=16); repeatable")
    parser.add_argument("--protocols", default="1,2", help="local protocol versions of the C node, e.g. 1,2 or 2")
    parser.add_argument("--rate", type=int, default=0,
                        help="CPU cases: publish paced at this many messages per second (1 ms steps); 0 = as fast as Redis takes them")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU cases")
    parser.add_argument("--no-registry-filter", action="store_true",
                        help="the v2 node does not ask for busd's registry filter (CLUSTER_REQUEST kind 10): busd hands it every miss")
    parser.add_argument("--latency", action="store_true",
                        help="also measure publish → receive latency: the anchor's subscriber, busd's node (routed, per protocol)")
    parser.add_argument("--latency-rate", type=int, default=0, help="the latency cases' pace (default --rate, else 100000)")
    parser.add_argument("--latency-messages", type=int, default=1000000)
    parser.add_argument("--latency-every", type=int, default=100, help="time every Nth message")
    parser.add_argument("--latency-rounds", type=int, default=1)
    parser.add_argument("--perf", default="", help="all or routed,roommiss,nsmiss: one extra pass of those cases under perf record")
    parser.add_argument("--perf-dir", default="", help="where the perf.data files go (default bench/.build/anchor/perf)")
    parser.add_argument("--memory", action="store_true", help="also measure busd's RSS at --memory-sockets")
    parser.add_argument("--memory-sockets", default="100000,1000000")
    parser.add_argument("--memory-batch", type=int, default=10000)
    parser.add_argument("--memory-protocol", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=0, help="with --memory: minutes of load after the sockets")
    parser.add_argument("--load-rate", type=int, default=100000)
    parser.add_argument("--busd-http", default="", metavar="HOST:PORT",
                        help="with --memory: busd's status endpoints there; the load's end reads its malloc trims")
    parser.add_argument("--sample-seconds", type=float, default=10)
    args = parser.parse_args()
    args.protocols = [int(p) for p in args.protocols.split(",")]
    args.memory_sockets = [int(s) for s in args.memory_sockets.split(",")]
    args.busd_env = dict(item.split("=", 1) for item in args.busd_env if "=" in item)
    args.latency_rate = args.latency_rate or args.rate or 100000
    if args.latency_messages // max(1, args.latency_every) + 1 > 36 ** 5:
        sys.exit("anchor-bench: more latency samples than 5 base-36 digits number")
    args.busd = os.path.abspath(args.busd)
    if not os.access(args.busd, os.X_OK):
        sys.exit(f"anchor-bench: no busd at {args.busd}")

    bench = Bench(args)
    started = time.monotonic()
    try:
        bench.start_redis()
        if not args.no_cpu:
            load_before = machine()
            results, threads = bench.cpu_rounds()
            report_cpu(args, results, threads, load_before, machine().split("load ")[1], bench.idle_us_per_s, bench.cross_check)
        if args.latency:
            load_before = machine()
            results = bench.latency_rounds()
            report_latency(args, results, load_before, machine().split("load ")[1])
        if args.perf:
            bench.perf_pass()
        if args.memory:
            samples, load = bench.memory()
            report_memory(samples, load)
    finally:
        bench.close()
    log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
