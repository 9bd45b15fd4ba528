#!/usr/bin/env bash
# delivery-bench over each transport, a baseline build against this one,
# alternating in one session (the machine is shared: compare within a run).
#
#   bench/transport-compare.sh BASELINE_DELIVERY_BENCH [ROUNDS] [MESSAGES]
#
# BASELINE_DELIVERY_BENCH: delivery-bench built from the commit to compare
# with (it must know DELIVERY_BENCH_TRANSPORT=unix|tcp; copy bench/Sources
# into that checkout). This build's is bench/.build/release/delivery-bench.
# Prints one line per run: build, transport, routed msg/s, busd µs per
# routed message, busd-subscriber µs, no-target µs, latency p99.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=$1
rounds=${2:-3}
messages=${3:-400000}
current=bench/.build/release/delivery-bench
run() {
    local name=$1 binary=$2 transport=$3
    DELIVERY_BENCH_TRANSPORT=$transport "$binary" "$messages" 2>/dev/null | awk -v name="$name" -v transport="$transport" '
        /routed .* msg\/s \(/ { rate = $2 }
        /busd CPU/ { for (i = 1; i <= NF; i++) if ($i == "≈" && cpu == "") cpu = $(i + 1) }
        /busd threads/ { for (i = 1; i <= NF; i++) if ($i == "busd-subscriber") { sub_ = $(i + 1); gsub(/,/, "", sub_) } }
        /latency/ { for (i = 1; i <= NF; i++) if ($i == "p99" && p99 == "") p99 = $(i + 1) }
        /end to end/ { noTarget = $3 }
        END { printf "%-8s %-5s routed %8s msg/s  busd %s µs/msg  subscriber %s µs/msg  no-target %s µs  p99 %s µs\n", name, transport, rate, cpu, sub_, noTarget, p99 }'
}
echo "transport-compare: $rounds rounds of $messages messages; $(date -u '+%F %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
    run baseline "$baseline" unix
    run current "$current" unix
    run baseline "$baseline" tcp
    run current "$current" tcp
    run current "$current" tls
done
