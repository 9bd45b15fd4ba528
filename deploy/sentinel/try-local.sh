#!/usr/bin/env bash
# Runs this directory's example on one machine, on 127.0.0.1 and free ports:
# a master, a replica, three sentinels from sentinel.conf, busd from busd.yaml;
# then a SENTINEL FAILOVER, after which busd must be ready again on the new
# master. Everything it starts is killed at the end. Exit 0 when it worked.
#   deploy/sentinel/try-local.sh [path/to/busd]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
busd=${1:-$(dirname "$(dirname "$here")")/.build/debug/busd}
[[ -x $busd ]] || { echo "no busd at $busd (build first, or give its path)"; exit 2; }
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || { echo "needs redis-server and redis-cli"; exit 2; }
tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for SECONDS COMMAND...
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do ((SECONDS < deadline)) || return 1; sleep 0.1; done
}

master=$(free_port) replica=$(free_port)
redis-server --port "$master" --bind 127.0.0.1 --save "" --dir "$tmp" --logfile "$tmp/master.log" &
pids+=($!)
redis-server --port "$replica" --bind 127.0.0.1 --save "" --dir "$tmp" --logfile "$tmp/replica.log" \
    --replicaof 127.0.0.1 "$master" &
pids+=($!)
wait_for 5 redis-cli -p "$replica" ping

sentinel_hosts=()
for n in 1 2 3; do
    port=$(free_port)
    mkdir -p "$tmp/s$n"
    # The example with this machine's addresses and quicker timings.
    sed -e "s/^port .*/port $port/" -e "s/^bind .*/bind 127.0.0.1/" -e "s#^dir .*#dir $tmp/s$n#" \
        -e "s/^sentinel monitor mymaster .*/sentinel monitor mymaster 127.0.0.1 $master 2/" \
        -e "s/^sentinel down-after-milliseconds mymaster .*/sentinel down-after-milliseconds mymaster 1000/" \
        "$here/sentinel.conf" >"$tmp/s$n/sentinel.conf"
    redis-server "$tmp/s$n/sentinel.conf" --sentinel --logfile "$tmp/s$n/sentinel.log" &
    pids+=($!)
    sentinel_hosts+=("127.0.0.1:$port")
done
first_sentinel=${sentinel_hosts[0]#*:}
known() { [[ $(redis-cli -p "$first_sentinel" sentinel replicas mymaster | grep -c "^name$") -ge 1 &&
    $(redis-cli -p "$first_sentinel" sentinel sentinels mymaster | grep -c "^name$") -ge 2 ]]; }
wait_for 20 known || { echo "the sentinels did not find the replica and each other"; exit 1; }

http=127.0.0.1:$(free_port)
url="redis+sentinel://$(IFS=,; echo "${sentinel_hosts[*]}")/mymaster/0"
sed -e "s#^  url: .*#  url: $url#" -e "s#^  path: .*#  path: $tmp/busd.sock#" "$here/busd.yaml" >"$tmp/busd.yaml"
"$busd" --config "$tmp/busd.yaml" --check-config >"$tmp/check.txt" || { cat "$tmp/check.txt"; exit 1; }
"$busd" --config "$tmp/busd.yaml" --http "$http" --node-id try-1 2>"$tmp/busd.log" &
pids+=($!)
ready() { curl -fsS "http://$http/readyz"; }
wait_for 10 ready || { echo "busd not ready"; cat "$tmp/busd.log"; exit 1; }
echo "busd ready through the sentinels: master 127.0.0.1:$master"

redis-cli -p "$first_sentinel" sentinel failover mymaster >/dev/null
moved() { [[ $(redis-cli -p "$first_sentinel" sentinel get-master-addr-by-name mymaster | tail -1) == "$replica" ]]; }
wait_for 15 moved || { echo "no fail-over"; exit 1; }
on_new_master() { [[ $(redis-cli -p "$replica" sismember socketbus:nodes try-1) == 1 && $(redis-cli -p "$replica" pubsub numpat) -ge 1 ]]; }
wait_for 10 on_new_master || { echo "busd did not follow the fail-over"; cat "$tmp/busd.log"; exit 1; }
wait_for 5 ready || { echo "busd not ready after the fail-over"; cat "$tmp/busd.log"; exit 1; }
echo "busd followed the fail-over: ready on the new master 127.0.0.1:$replica"
