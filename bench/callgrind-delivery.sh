#!/usr/bin/env bash
# Instructions per message of busd's own threads (subscriber, node-link
# writer) in delivery-bench, under callgrind: repeatable where wall-clock
# rates on a shared 2-core machine are not.
#
#   bench/callgrind-delivery.sh [-n N] [-b BINARY] [-t unix|tcp|tls] [PHASE...]   (routed, no-target; N=20000)
#
# Each phase runs with N and 2N messages (delivery-bench --phase); per-thread
# profiles pick out busd's threads by the functions they ran, and the
# difference over N is the cost of one message. redis-server is not traced.
set -euo pipefail

cd "$(dirname "$0")/.."
n=20000
bin=bench/.build/release/delivery-bench
transport=unix
while getopts "n:b:t:" opt; do
    case $opt in
        n) n=$OPTARG ;;
        b) bin=$OPTARG ;;
        t) transport=$OPTARG ;;
        *) echo "usage: bench/callgrind-delivery.sh [-n N] [-b BINARY] [-t unix|tcp|tls] [PHASE...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] && set -- routed no-target
work=$(mktemp -d)
# Started here: under valgrind, Foundation's Process cannot spawn it.
# How busd's member reaches it (the publisher always uses the Unix socket):
# tcp and tls on free loopback ports, tls with a CA made here.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ports=(--port 0)
if [[ $transport == tcp ]]; then
    DELIVERY_BENCH_REDIS_PORT=$(free_port)
    ports=(--port "$DELIVERY_BENCH_REDIS_PORT" --bind 127.0.0.1)
    export DELIVERY_BENCH_REDIS_PORT
elif [[ $transport == tls ]]; then
    DELIVERY_BENCH_TLS_PORT=$(free_port)
    key=(-nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
    (cd "$work" && openssl req -x509 -new "${key[@]}" -keyout ca.key -out ca.crt -days 2 -subj "/CN=bench CA" \
        && printf 'subjectAltName=DNS:localhost\n' >server.ext \
        && openssl req -new "${key[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" \
        && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
            -extfile server.ext) >/dev/null 2>&1
    ports=(--port 0 --bind 127.0.0.1 --tls-port "$DELIVERY_BENCH_TLS_PORT" --tls-cert-file "$work/server.crt"
        --tls-key-file "$work/server.key" --tls-ca-cert-file "$work/ca.crt" --tls-auth-clients no)
    export DELIVERY_BENCH_TLS_PORT
fi
export DELIVERY_BENCH_TRANSPORT=$transport
redis-server "${ports[@]}" --unixsocket "$work/redis.sock" --save "" --appendonly no --logfile /dev/null \
    --client-output-buffer-limit "pubsub 0 0 0" &
redis_pid=$!
trap 'kill $redis_pid; rm -rf "$work"' EXIT
for _ in $(seq 100); do [[ -S $work/redis.sock ]] && break; sleep 0.05; done
export DELIVERY_BENCH_REDIS_DIR=$work
# Valgrind 3.19 cannot read Swift 6.3's DWARF: profile a copy without it.
cp "$bin" "$work/delivery-bench"
objcopy --strip-debug "$work/delivery-bench"

# Instructions of the subscriber thread and the writer thread, one run.
threads() {
    local dir=$work/$1.$2
    mkdir -p "$dir"
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/out" \
        "$work/delivery-bench" --phase "$1" "$2" >"$dir/log" 2>&1 || { cat "$dir/log" >&2; exit 1; }
    local sub=0 wri=0
    for f in "$dir"/out*; do
        local total
        total=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
        if grep -q 'AdapterSubscriber.*readLoop' "$f"; then sub=$((sub + total)); fi
        if grep -q 'NodeConnection.*writeLoop' "$f"; then wri=$((wri + total)); fi
    done
    echo "$sub $wri"
}

for phase in "$@"; do
    echo "callgrind-delivery: $phase: $n and $((2 * n)) messages..." >&2
    read -r s1 w1 < <(threads "$phase" "$n")
    read -r s2 w2 < <(threads "$phase" $((2 * n)))
    awk -v s1="$s1" -v s2="$s2" -v w1="$w1" -v w2="$w2" -v n="$n" -v p="$phase" -v t="$transport" 'BEGIN {
        printf "%-10s %-4s subscriber %7.0f  writer %6.0f  busd %7.0f instructions/msg\n", p, t, (s2 - s1) / n, (w2 - w1) / n, (s2 - s1 + w2 - w1) / n }'
done
