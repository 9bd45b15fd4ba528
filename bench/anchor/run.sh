#!/usr/bin/env bash
# busd's CPU per message with the real binary against a C anchor (issue 17),
# and with --memory its resident memory per socket and under load.
#
#   bench/anchor/run.sh [--rounds N] [--messages N] [--busd PATH] [--protocols 1,2] [--rate R]
#                       [--memory [--memory-sockets 100000,1000000] [--minutes M] [--load-rate R]]
#                       [--perf all|routed,roommiss,nsmiss [--perf-dir DIR]] [--no-cpu] [--no-build]
#                       [--busd-env NAME=VALUE]...
#                       [--latency [--latency-rate R] [--latency-messages N] [--latency-every N] [--latency-rounds N]]
#
# Builds the C parts (node.c, sub.c, pub.c) with cc against hiredis and
# msgpack-c into bench/.build/anchor, and, unless --busd or --no-build is
# given, a release busd (swift build -c release --product busd). --latency
# adds publish → receive latency at a paced rate (default 100k msg/s): the
# anchor's subscriber, and busd's node per protocol (every 100th message
# timed, see pub.c). Figures go
# to standard output as Markdown, progress to standard error.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/bench/.build/anchor"
build_busd=1
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --busd) build_busd=0; args+=("$1" "$2"); shift 2 ;;
        --no-build) build_busd=0; shift ;;
        *) args+=("$1"); shift ;;
    esac
done
mkdir -p "$out"
for part in node sub pub; do
    cc -O2 -Wall -Wextra -o "$out/$part" "$here/$part.c" -lhiredis -lmsgpackc
done
if [ "$build_busd" = 1 ]; then
    echo "anchor-bench: building the release busd" >&2
    (cd "$root" && swift build -c release --product busd >&2)
fi
exec python3 "$here/driver.py" --bin-dir "$out" ${args[@]+"${args[@]}"}
