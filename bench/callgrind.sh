#!/usr/bin/env bash
# Instructions per message of codec-bench cases, under valgrind's callgrind:
# repeatable where wall-clock rates on a shared 2-core machine are not.
#
#   bench/callgrind.sh [-n N] [-k] [CASE...]     (default: hot-path, N=100000)
#
# Each case runs twice, N and 2N iterations (codec-bench --iterations); the
# difference of the two instruction totals over N is the cost of one message,
# with start-up and set-up (loading captures, building every case) cancelled
# out. -k keeps the 2N profile (for callgrind_annotate) and prints its path.
# CODEC_BENCH picks the binary (default bench/.build/release/codec-bench).
set -euo pipefail

cd "$(dirname "$0")/.."
n=100000
keep=0
while getopts "n:k" opt; do
    case $opt in
        n) n=$OPTARG ;;
        k) keep=1 ;;
        *) echo "usage: bench/callgrind.sh [-n N] [-k] [CASE...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] && set -- hot-path
bin=${CODEC_BENCH:-bench/.build/release/codec-bench}
if [[ ! -x $bin ]]; then
    echo "callgrind: $bin not found; build it: swift build -c release --package-path bench" >&2
    exit 1
fi
command -v valgrind >/dev/null || { echo "callgrind: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap '[[ $keep == 1 ]] || rm -rf "$work"' EXIT
# Valgrind 3.19 (Debian 12) gives up on the DWARF that Swift 6.3 writes
# ("possibly corrupted debuginfo"): profile a copy without it. The symbol
# table stays, so callgrind_annotate still names every function.
cp "$bin" "$work/codec-bench"
objcopy --strip-debug "$work/codec-bench"
bin=$work/codec-bench

total() {  # instructions executed by one run of $bin --iterations $1 $2
    local out=$work/callgrind.$1.out
    if ! valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --iterations "$1" "$2" >"$work/log" 2>&1; then
        cat "$work/log" >&2
        exit 1
    fi
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

for name in "$@"; do
    echo "callgrind: $name: $n and $((2 * n)) iterations..." >&2
    one=$(total "$n" "$name")
    two=$(total $((2 * n)) "$name")
    awk -v a="$one" -v b="$two" -v n="$n" -v name="$name" \
        'BEGIN { printf "%-32s %10.0f instructions/msg\n", name, (b - a) / n }'
    if [[ $keep == 1 ]]; then echo "callgrind: profile kept: $work/callgrind.$((2 * n)).out" >&2; fi
done
