#!/usr/bin/env bash
# Every benchmark of socketbus, one after the other, as bench/README.md reports them.
#
#   bench/run-all.sh [--callgrind] [--chaos [OUTAGES]] [--cluster-calls] [--sharded-cluster] [--anchor] [--connector-share] [--no-build]
#
#   1. the machine (cores, CPU, memory, Swift, kernel, date, library versions);
#   2. codec-bench     the codec's hot path against msgpack-c alone (issue 2);
#   3. registry-bench  1M sockets: memory, mirror into Redis, find-socket (issue 3);
#   4. delivery-bench  Redis → busd → connector: throughput, latency, no-target cost (issue 4);
#   4b. request-bench  the cluster's requests answered from the registry: latency, cost (issue 13);
#   4c. cluster-bench  busd's own latency per adapter request it answers itself (issue 13);
#   5. with --callgrind: instructions per message of the codec cases (valgrind);
#   6. with --chaos: bench/chaos.sh, redis-server killed and restarted OUTAGES
#      times (default 20) under load (needs .venv and a built busd: make deps-test build).
#   7. with --cluster-calls: bench/cluster-calls/run.js, fetchSockets of 3 × 10k
#      real clients and an acked broadcast to 1k clients, stock, socketbus and
#      mixed clusters (needs ../shared/stock-socketio and a release busd, built
#      here unless --no-build; about 3 minutes).
#   8. with --sharded-cluster: bench/sharded-cluster.py, routed throughput of 1, 2
#      and 4 real busd processes (release) with the sharded adapter (dynamic) on
#      a 3-master Redis Cluster, and what each busd reads; then the same load
#      with the classic adapter for comparison (needs .venv; about 2 minutes).
#   9. with --anchor: bench/anchor/run.sh, the real busd (release) against a C
#      anchor (hiredis + msgpack_unpack), CPU per message routed, room miss and
#      namespace miss (issue 17; about 2 minutes).
#  10. with --connector-share: bench/connector-share/run.js, the Node connector's
#      own CPU per delivered packet in a real socket.io 4.8.1 server (issue 17;
#      needs ../shared/stock-socketio; about 2 minutes).
#
# Figures go to standard output, progress lines ("started", "done in") to
# standard error: `bench/run-all.sh > figures.txt` keeps a quiet copy of the
# figures while the terminal shows how far the run is.
set -euo pipefail

cd "$(dirname "$0")/.."
callgrind=0
chaos=""
cluster_calls=0
sharded_cluster=0
anchor=0
connector_share=0
build=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --callgrind) callgrind=1 ;;
        --chaos)
            chaos=20
            if [[ ${2:-} =~ ^[1-9][0-9]*$ ]]; then chaos=$2; shift; fi
            ;;
        --cluster-calls) cluster_calls=1 ;;
        --sharded-cluster) sharded_cluster=1 ;;
        --anchor) anchor=1 ;;
        --connector-share) connector_share=1 ;;
        --no-build) build=0 ;;
        *) echo "usage: bench/run-all.sh [--callgrind] [--chaos [OUTAGES]] [--cluster-calls] [--sharded-cluster] [--anchor] [--connector-share] [--no-build]" >&2; exit 2 ;;
    esac
    shift
done

started=$SECONDS
step() { echo "run-all [$((SECONDS - started)) s] $*" >&2; }
bin=bench/.build/release

if [[ $build == 1 ]]; then
    step "building the bench package (release)"
    if ! swift build -c release --package-path bench >&2; then
        # SwiftPM keeps a stale target description when sources of the main
        # package move; once without it is enough.
        step "build failed; again without the cached target description"
        rm -f bench/.build/*/release/description.json
        swift build -c release --package-path bench >&2
    fi
    if [[ $cluster_calls == 1 || $sharded_cluster == 1 || $anchor == 1 || $connector_share == 1 ]]; then
        step "building busd (release) for cluster-calls / sharded-cluster / anchor / connector-share"
        swift build -c release --product busd >&2
    fi
fi

step "machine"
echo "## Machine"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- cores (nproc): $(nproc); CPU: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "- kernel: $(uname -sr)"
echo "- swift: $(swift --version 2>&1 | head -n 1)"
echo "- msgpack-c: $(pkg-config --modversion msgpack 2>/dev/null || echo '?'); hiredis: $(pkg-config --modversion hiredis 2>/dev/null || echo '?'); $(redis-server --version | cut -d' ' -f1-3)"
echo "- load when starting: $(cut -d' ' -f1-3 /proc/loadavg)"

for tool in codec-bench registry-bench delivery-bench request-bench cluster-bench; do
    step "$tool: started"
    echo
    echo "## $tool"
    echo
    echo '```'
    "$bin/$tool"
    echo '```'
    step "$tool: done"
done

if [[ $callgrind == 1 ]]; then
    step "callgrind: started (about a minute)"
    echo
    echo "## callgrind (instructions per message)"
    echo
    echo '```'
    bench/callgrind.sh anchor MsgPackReader hot-path general inject-only encode-broadcast
    echo '```'
    step "callgrind: done"
fi

if [[ -n $chaos ]]; then
    step "chaos: started ($chaos outages)"
    echo
    echo "## chaos ($chaos outages)"
    echo
    echo '```'
    bench/chaos.sh "$chaos" 2>&1
    echo '```'
    step "chaos: done"
fi
if [[ $cluster_calls == 1 ]]; then
    step "cluster-calls: started (about 3 minutes)"
    echo
    echo "## cluster-calls"
    echo
    SOCKETBUS_BUSD="${SOCKETBUS_BUSD:-.build/release/busd}" node bench/cluster-calls/run.js
    step "cluster-calls: done"
fi
if [[ $sharded_cluster == 1 ]]; then
    step "sharded-cluster: started (about 2 minutes)"
    echo
    echo "## sharded-cluster"
    echo
    .venv/bin/python bench/sharded-cluster.py --busd "${SOCKETBUS_BUSD:-.build/release/busd}"
    echo
    .venv/bin/python bench/sharded-cluster.py --busd "${SOCKETBUS_BUSD:-.build/release/busd}" --adapter classic
    step "sharded-cluster: done"
fi
if [[ $anchor == 1 ]]; then
    step "anchor: started (about 2 minutes)"
    echo
    echo "## anchor (real busd against a C anchor)"
    echo
    bench/anchor/run.sh --busd "${SOCKETBUS_BUSD:-.build/release/busd}"
    step "anchor: done"
fi
if [[ $connector_share == 1 ]]; then
    step "connector-share: started (about 2 minutes)"
    echo
    echo "## connector-share"
    echo
    node bench/connector-share/run.js --busd "${SOCKETBUS_BUSD:-.build/release/busd}"
    step "connector-share: done"
fi
step "all done in $((SECONDS - started)) s"
