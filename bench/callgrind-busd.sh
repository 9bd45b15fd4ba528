#!/usr/bin/env bash
# Instructions per message of the real busd binary (every thread), under
# callgrind, with a node of local protocol version 1 (or 2 with -v 2: it asks
# for the registry filter, and gets DELIVER_TO_ROOMS) and a publisher
# (bench/busd-drive.py).
#
#   bench/callgrind-busd.sh [-n N] [-b BUSD] [-v 1|2] [-k] [PHASE...]   (routed room-miss nsp-miss; N=20000)
#
# Each phase runs busd twice, with N and 2N messages published; the
# difference of the two instruction totals over N is one message's cost,
# with start-up, connection and shutdown cancelled out. -k keeps the 2N
# profiles for callgrind_annotate (--inclusive=yes) and prints their paths.
# What still differs between the runs is time-driven work (pings, the
# registry's liveness writes): a few hundred thousand instructions a second,
# small against N messages at N = 20000.
set -euo pipefail

cd "$(dirname "$0")/.."
n=20000
busd=.build/release/busd
keep=0
version=1
while getopts "n:b:v:k" opt; do
    case $opt in
        n) n=$OPTARG ;;
        b) busd=$OPTARG ;;
        v) version=$OPTARG ;;
        k) keep=1 ;;
        *) echo "usage: bench/callgrind-busd.sh [-n N] [-b BUSD] [-v 1|2] [-k] [PHASE...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ $version == 1 || $version == 2 ]] || { echo "callgrind-busd: -v takes 1 or 2" >&2; exit 2; }
[[ $# -eq 0 ]] && set -- routed room-miss nsp-miss
for phase in "$@"; do
    case $phase in
        routed | room-miss | nsp-miss) ;;
        *) echo "callgrind-busd: unknown phase $phase (routed, room-miss, nsp-miss)" >&2; exit 2 ;;
    esac
done
[[ -x $busd ]] || { echo "callgrind-busd: $busd not found (swift build -c release --product busd)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind-busd: valgrind not installed" >&2; exit 1; }

work=$(mktemp -d)
redis-server --port 0 --unixsocket "$work/redis.sock" --save "" --appendonly no --logfile /dev/null \
    --client-output-buffer-limit "pubsub 0 0 0" &
redis_pid=$!
busd_pid=
cleanup() {
    # A failed run's profile is not wanted: no drain to wait for.
    [[ -n $busd_pid ]] && kill -KILL "$busd_pid" 2>/dev/null
    kill "$redis_pid" 2>/dev/null
    [[ $keep == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do [[ -S $work/redis.sock ]] && break; sleep 0.05; done
# Valgrind 3.19 cannot read Swift 6.3's DWARF: profile a copy without it.
cp "$busd" "$work/busd"
objcopy --strip-debug "$work/busd"
# And it crashes on busd's main thread parked in sigsuspend (see the shim).
cc -shared -fPIC -O2 -o "$work/shim.so" bench/valgrind-sigsuspend-shim.c

total() {  # instructions of one busd run: phase $1, $2 messages
    local out=$work/callgrind.v$version.$1.$2.out
    rm -f "$work/node.sock"
    LD_PRELOAD=$work/shim.so valgrind --tool=callgrind --callgrind-out-file="$out" "$work/busd" --redis "unix://$work/redis.sock" \
        --socket "$work/node.sock" --namespace / --namespace /empty --node-id bench --http off --log-level warning \
        >"$work/busd.log" 2>&1 &
    busd_pid=$!
    for _ in $(seq 600); do [[ -S $work/node.sock ]] && break; sleep 0.1; done
    python3 bench/busd-drive.py "$work/redis.sock" "$work/node.sock" "$1" "$2" "$version" || { cat "$work/busd.log" >&2; exit 1; }
    kill -TERM "$busd_pid"
    wait "$busd_pid" || true
    busd_pid=
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

for phase in "$@"; do
    echo "callgrind-busd: $phase: $n and $((2 * n)) messages..." >&2
    one=$(total "$phase" "$n")
    two=$(total "$phase" $((2 * n)))
    awk -v a="$one" -v b="$two" -v n="$n" -v p="$phase" \
        'BEGIN { printf "%-10s busd %8.0f instructions/msg\n", p, (b - a) / n }'
    [[ $keep == 1 ]] && echo "callgrind-busd: profiles kept: $work/callgrind.v$version.$phase.{$n,$((2 * n))}.out" >&2
done
