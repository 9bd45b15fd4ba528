"""The anchor bench's reports: percentiles, the CPU, latency and memory
tables it prints (driver.py measures, this formats)."""
import os
import statistics

# The capture every case publishes: @socket.io/redis-emitter 5.1.0,
# emitter.to('roomA').emit('toRoom', {room:'roomA'}), 76 bytes of msgpack,
# on the room channel, as the emitter publishes it.
CAPTURE_DESCRIPTION = "emitter.to('roomA').emit('toRoom', {room:'roomA'})"

def read_samples(path):
    """ "seq ns" lines (pub.c, node.c, sub.c) as {seq: ns}."""
    samples = {}
    with open(path) as f:
        for line in f:
            seq, ns = line.split()
            samples[int(seq)] = int(ns)
    return samples


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[min(len(sorted_values), int(rank)) - 1]


def print_setup(args, load_before, load_after):
    """The binary measured and the machine's load, under each report's title."""
    print(f"  busd: {args.busd}" + (f" with {args.busd_env}" if args.busd_env else ""))
    print(f"  machine: {load_before} at start, load {load_after} at end")


def report_latency(args, results, load_before, load_after):
    print(f"latency, publish → receive: {args.latency_messages} messages per case paced at {args.latency_rate} msg/s, "
          f"every {args.latency_every}th timed (CLOCK_MONOTONIC: pub.c stamps just before the write to Redis that "
          f"carries it, the receiver when the read() that brought it returned), {args.latency_rounds} round(s)")
    print(f"  anchor: redis → C subscriber (hiredis); busd: redis → busd → C node, the DELIVER (v1) / "
          f"DELIVER_TO_ROOMS (v2) frame carrying the sample")
    print_setup(args, load_before, load_after)
    print()
    print("| case | timed / sent | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | p99 per round µs |")
    print("|---|---|---|---|---|---|---|---|")
    for name, rounds in results.items():
        pooled = sorted(d for r in rounds for d in r["delays"])
        sent = sum(r["sent"] for r in rounds)
        per_round = ", ".join(f"{percentile(r['delays'], 99):.0f}" for r in rounds)
        label = LABELS["anchor"] if name == "anchor" else f"{LABELS['routed']}, {name.split()[1]}"
        print(f"| {label} | {len(pooled)} / {sent} | {percentile(pooled, 50):.0f} | {percentile(pooled, 90):.0f} | "
              f"{percentile(pooled, 99):.0f} | "
              f"{percentile(pooled, 99.9):.0f} | {pooled[-1] if pooled else float('nan'):.0f} | {per_round} |")
    print()
    busd = [d for name, rounds in results.items() if name != "anchor" for r in rounds for d in r["delays"]]
    if busd:
        worst = max(percentile(sorted(d for r in rounds for d in r["delays"]), 99)
                    for name, rounds in results.items() if name != "anchor")
        print(f"issue 17 target, p99 publish → node frame < 1 ms at {args.latency_rate} msg/s: "
              f"worst protocol p99 {worst:.0f} µs: {'met' if worst < 1000 else 'NOT met'}")
        print()


def slope(points):
    """Least-squares slope of (x, y) points."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def machine():
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return f"{os.cpu_count()} cores, load {load}"


LABELS = {
    "anchor": "anchor: C hiredis PSUBSCRIBE + msgpack_unpack",
    "routed": "busd, routed to one local socket",
    "roommiss": "busd, room with no local socket",
    "nsmiss": "busd, namespace with no local socket (namespace channel)",
}


def report_cpu(args, results, threads, load_before, load_after, idle, cross_check):
    anchor = statistics.median(results["anchor"])
    pace = f"paced at {args.rate} msg/s" if args.rate else "published as fast as Redis takes them (pipelined)"
    print(f"anchor-bench: {args.messages} messages per case, {pace}, {args.rounds} rounds (cases alternate), medians")
    print(f"  payload: the 76-byte capture ({CAPTURE_DESCRIPTION}), on socket.io#/#roomA#"
          " (nsmiss: on socket.io#/#)")
    print_setup(args, load_before, load_after)
    print()
    print("| case | protocol | µs/message (median) | min – max | × anchor's speed | anchor / case, per round (median) |")
    print("|---|---|---|---|---|---|")
    for name, values in results.items():
        case, _, protocol = name.partition(" ")
        median = statistics.median(values)
        per_round = statistics.median(a / v for a, v in zip(results["anchor"], values) if v > 0)
        print(f"| {LABELS[case]} | {protocol or '-'} | {median:.3f} | {min(values):.3f} – {max(values):.3f} | "
              f"{anchor / median:.2f} | {per_round:.2f} |")
    print()
    if idle:
        print(f"busd idle (no traffic, 1 s after each start): median {statistics.median(idle):.0f} µs of CPU per second")
    if cross_check[1]:
        print(f"cross-check over every busd case: schedstat {cross_check[0] / 1e9:.2f} s, "
              f"utime + stime {cross_check[1] / 1e9:.2f} s (10 ms ticks), ratio {cross_check[0] / cross_check[1]:.2f}")
    print("busd's threads, µs per message (median over rounds):")
    for name, splits in threads.items():
        names = sorted({k for s in splits for k in s})
        parts = [f"{k} {statistics.median(s.get(k, 0) for s in splits):.3f}" for k in names]
        print(f"  {name}: " + ", ".join(parts))
    print()


def report_memory(samples, load):
    base = samples[0][1]
    print("busd's resident memory (from outside, /proc/<pid>/status and smaps_rollup)")
    print()
    print("| sockets | VmRSS | RssAnon | Pss | bytes per socket above the base: VmRSS | RssAnon |")
    print("|---|---|---|---|---|---|")
    for count, values in samples:
        per = f"{(values['VmRSS'] - base['VmRSS']) / count:.0f}" if count else "base"
        anon = f"{(values.get('RssAnon', 0) - base.get('RssAnon', 0)) / count:.0f}" if count else "base"
        print(f"| {count:,} | {values['VmRSS'] / 1e6:.1f} MB | {values.get('RssAnon', 0) / 1e6:.1f} MB | "
              f"{values.get('Pss', 0) / 1e6:.1f} MB | {per} | {anon} |")
    print()
    if load:
        points = [(t / 60, rss) for t, rss in load["samples"]]
        tail = [p for p in points if p[0] >= points[-1][0] / 2]
        print(f"under load: {load['published']}; node: {load['node']}; busd CPU {load['busd_cpu_us']:.3f} µs/msg, "
              f"{load.get('faults_per_kmsg', 0):.1f} minor page faults per 1000 msg"
              + (f", malloc trims {load['malloc_trims']:.0f}" if load.get("malloc_trims") is not None else ""))
        print(f"  VmRSS first {points[0][1] / 1e6:.1f} MB, last {points[-1][1] / 1e6:.1f} MB, "
              f"max {max(p[1] for p in points) / 1e6:.1f} MB over {points[-1][0]:.1f} min, {len(points)} samples")
        after_first = [p for p in points if p[0] >= 1]
        print(f"  slope (least squares): {slope(points) / 1e3:.1f} kB/min over the whole run, "
              f"{slope(after_first) / 1e3:.1f} kB/min after its first minute, "
              f"{slope(tail) / 1e3:.1f} kB/min over its second half")
        print("  VmRSS by minute: " + ", ".join(f"{t:.0f}: {rss / 1e6:.1f} MB" for t, rss in points if abs(t - round(t)) < 0.09))
        print()

