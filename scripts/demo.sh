#!/usr/bin/env bash
# The demo behind `make demo` (which installs what is missing and builds busd
# and busctl in release first): the real thing on one machine.
#
#   1. Redis: the one in SOCKETBUS_REDIS_URL if set, else a private
#      redis-server on a Unix socket in a temp dir (no persistence);
#   2. busd as node demo-node-1 (--ack-policy requested; with --http when
#      this busd has it, waiting for /readyz);
#   3. a demo node: a python-socketio server with the socketbus connector
#      (scripts/demo/node.py), and a client that joins a room and acks every
#      event (scripts/demo/client.py);
#   4. a walk-through, each command shown before it runs: busctl nodes,
#      find-socket, emit --wait-ack to the client's socket and to its room,
#      acks, the client's frames, busctl status (when it exists), inspect.
#
# Everything it started is stopped and the temp dir removed on exit, Ctrl-C
# included. Every wait has a time-out. Exit status 0 when every step worked,
# 1 with a message naming the step otherwise.
#
# Environment: BUSD and BUSCTL (the binaries, default .build/release/...),
# DEMO_PYTHON (an interpreter with python-socketio and aiohttp, default
# .venv/bin/python: `scripts/ensure-deps.sh --demo` makes it), and
# SOCKETBUS_REDIS_URL. Our busctl is always called by path: /usr/bin/busctl
# is systemd's tool of the same name.
set -euo pipefail

cd "$(dirname "$0")/.."

BUSD=${BUSD:-.build/release/busd}
BUSCTL=${BUSCTL:-.build/release/busctl}
DEMO_PYTHON=${DEMO_PYTHON:-.venv/bin/python}
NODE_ID=demo-node-1
ROOM=demo-room
STARTED=$SECONDS

# --- helpers ---------------------------------------------------------------

TMP=""
declare -A PIDS=()
STEP="setting up"

# Names the step that failed, shows the end of each log, exits 1 (the EXIT
# trap then stops everything).
fail() {
    {
        echo
        echo "demo: FAILED at $STEP: $*"
        local name
        for name in redis busd node client; do
            # Redis's log only when Redis is the trouble: it is long and noisy.
            if [[ $name == redis && $STEP != "starting Redis" ]] && kill -0 "${PIDS[redis]:-none}" 2>/dev/null; then
                continue
            fi
            if [[ -n "$TMP" && -s "$TMP/$name.log" ]]; then
                echo "--- last lines of the $name log:"
                tail -n 8 "$TMP/$name.log"
            fi
        done
    } >&2
    exit 1
}

# Shows the command (quoted where the shell needs it), then runs it with a
# time-out; its output also goes to $TMP/out. Returns the command's status.
run() {
    local shown=() arg status
    for arg in "$@"; do
        if [[ "$arg" =~ ^[A-Za-z0-9_./=:-]+$ ]]; then shown+=("$arg"); else shown+=("'$arg'"); fi
    done
    echo "\$ ${shown[*]}"
    set +e
    timeout -k 2 20 "$@" 2>&1 | tee "$TMP/out"
    status=${PIPESTATUS[0]}
    set -e
    ((status == 124)) && echo "(timed out after 20s)"
    return "$status"
}

# step N "title": a numbered heading for the walk-through.
step() {
    STEP="step $1 ($2)"
    echo
    echo "[$1/$STEPS] $2"
}

# Runs the command and fails the step unless it exits 0.
expect_ok() {
    local status=0
    run "$@" || status=$?
    ((status == 0)) || fail "${1##*/} $2 exited with status $status"
}

# Fails the step unless the last command's output holds the text.
expect_output() {
    grep -qF -- "$1" "$TMP/out" || fail "expected '$1' in the output above"
}

# start NAME CMD...: runs CMD in the background, output to $TMP/NAME.log.
start() {
    local name=$1
    shift
    "$@" >"$TMP/$name.log" 2>&1 &
    PIDS[$name]=$!
}

# wait_for NAME SECONDS WHAT CMD...: polls CMD until it succeeds; fails when
# the time is up or the process NAME died meanwhile.
wait_for() {
    local name=$1 limit=$2 what=$3 deadline
    shift 3
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name exited while waiting for $what"
        ((SECONDS < deadline)) || fail "no $what within ${limit}s"
        sleep 0.1
    done
}

# stop NAME GRACE: SIGTERM, then SIGKILL after GRACE seconds (a child may
# have inherited a blocked or ignored SIGTERM from whoever started us).
stop() {
    local pid=${PIDS[$1]:-} i
    [[ -n "$pid" ]] || return 0
    unset "PIDS[$1]"
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    trap - EXIT INT TERM
    # The client first, busd before Redis: busd removes its entries on SIGTERM.
    stop client 2
    stop node 3
    stop busd 5
    stop redis 1
    [[ -n "$TMP" ]] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT
trap 'echo "demo: terminated" >&2; exit 143' TERM

py() { timeout -k 1 15 "$DEMO_PYTHON" "$@"; }

free_port() {
    py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http_ok URL SECONDS: waits until URL answers 200.
http_ok() {
    py - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

# node_field FIELD: FIELD of demo-node-1 in `busctl nodes --json` ("" if absent).
node_field() {
    timeout -k 1 10 "$BUSCTL" nodes --json 2>/dev/null | py 2>/dev/null -c '
import json, sys
for node in json.load(sys.stdin):
    if node.get("node") == sys.argv[1]:
        print(node.get(sys.argv[2], ""))' "$NODE_ID" "$1"
}

redis_up() { [[ "$(timeout 2 redis-cli -s "$TMP/redis.sock" ping 2>/dev/null)" == PONG ]]; }
socket_counted() { [[ "$(node_field sockets)" -ge 1 ]]; }

# --- preflight -------------------------------------------------------------

for bin in "$BUSD" "$BUSCTL"; do
    [[ -x "$bin" ]] || fail "$bin not found; build it with: make demo"
done
"$DEMO_PYTHON" -c 'import socketio, aiohttp' 2>/dev/null ||
    fail "$DEMO_PYTHON lacks python-socketio or aiohttp; install them with: scripts/ensure-deps.sh --demo"
[[ -n "${SOCKETBUS_REDIS_URL:-}" ]] || command -v redis-server >/dev/null ||
    fail "redis-server not found (install it with scripts/ensure-deps.sh) or set SOCKETBUS_REDIS_URL"

# What this build of busd and busctl offers.
busd_help=$("$BUSD" --help 2>&1 || true)
busctl_help=$("$BUSCTL" help 2>&1 || true)
has_http=0
has_status=0
if grep -qE -- '--http([^-a-z]|$)' <<<"$busd_help"; then
    has_http=1
    if grep -qE '^ +status( |$)' <<<"$busctl_help" &&
        grep -qE -- '--http([^-a-z]|$)' <<<"$("$BUSCTL" status --help 2>&1 || true)"; then
        has_status=1
    fi
fi
STEPS=$((7 + has_status))

TMP=$(mktemp -d "${TMPDIR:-/tmp}/socketbus-demo.XXXXXX")
if ((${#TMP} > 80)); then # Unix socket paths must stay under 108 bytes
    rm -rf "$TMP"
    TMP=$(mktemp -d /tmp/socketbus-demo.XXXXXX)
fi

cat <<EOF
socketbus demo: busd, a Socket.IO node and a client, driven with busctl

Starting (logs in $TMP, removed at the end):
EOF

# --- Redis ---------------------------------------------------------------

STEP="starting Redis"
if [[ -n "${SOCKETBUS_REDIS_URL:-}" ]]; then
    REDIS_URL=$SOCKETBUS_REDIS_URL
    PIDS[redis]=""
    # Reachable, and no other demo using the node id there?
    state=$(node_field state) || fail "cannot reach Redis at SOCKETBUS_REDIS_URL: $("$BUSCTL" nodes 2>&1 | tail -n 1)"
    [[ "$state" != alive ]] || fail "$NODE_ID is already alive in that Redis: is another demo running?"
    echo "  Redis         yours, from SOCKETBUS_REDIS_URL (left running)"
    REDIS_NOTE="which you set"
else
    REDIS_URL="unix://$TMP/redis.sock"
    start redis redis-server --port 0 --unixsocket "$TMP/redis.sock" --unixsocketperm 700 \
        --save '' --appendonly no --dir "$TMP"
    wait_for redis 10 "answer from redis-server" redis_up
    echo "  redis-server  $REDIS_URL, private to this demo"
    REDIS_NOTE="which this demo exported"
fi
export SOCKETBUS_REDIS_URL=$REDIS_URL

# --- busd ----------------------------------------------------------------

STEP="starting busd"
busd_args=(--redis "$REDIS_URL" --socket "$TMP/busd.sock" --node-id "$NODE_ID" --ack-policy requested --log-level notice)
if ((has_http)); then
    HTTP_ADDR="127.0.0.1:$(free_port)"
    busd_args+=(--http "$HTTP_ADDR")
fi
# Everything busd needs is in its flags: no config file from the environment.
start busd env -u SOCKETBUS_CONFIG "$BUSD" "${busd_args[@]}"
wait_for busd 10 "busd socket $TMP/busd.sock" test -S "$TMP/busd.sock"
if ((has_http)); then
    wait_for busd 15 "200 from http://$HTTP_ADDR/readyz" http_ok "http://$HTTP_ADDR/readyz" 1
    echo "  busd          node $NODE_ID; /readyz answers 200 on http://$HTTP_ADDR"
else
    echo "  busd          node $NODE_ID (this build has no --http: no /readyz to wait for)"
fi

# --- the demo node and client ----------------------------------------------

STEP="starting the demo node"
start node "$DEMO_PYTHON" scripts/demo/node.py --busd-socket "$TMP/busd.sock"
wait_for node 15 "link from the demo node to busd" grep -q '^node: linked to busd' "$TMP/node.log"
NODE_URL=$(sed -n 's/^node: listening on //p' "$TMP/node.log")
echo "  node          python-socketio + the connector (clients/python), $NODE_URL"

STEP="starting the demo client"
start client "$DEMO_PYTHON" scripts/demo/client.py --url "$NODE_URL" --room "$ROOM"
wait_for client 15 "client connected and in room $ROOM" grep -q '^client: ready, sid ' "$TMP/client.log"
SID=$(sed -n 's/^client: ready, sid \([^,]*\),.*/\1/p' "$TMP/client.log")
READY_LINES=$(wc -l <"$TMP/client.log")
echo "  client        python-socketio client, socket id $SID, in room $ROOM"

# busd rewrites its node record, with the socket count, every 5 s.
STEP="waiting for the client's socket in busd's node record"
wait_for busd 10 "socket count for $NODE_ID in Redis" socket_counted

echo
echo "busctl reads Redis's address from SOCKETBUS_REDIS_URL, $REDIS_NOTE."

# --- the walk-through --------------------------------------------------------

step 1 "busctl nodes: the cluster's nodes, as registered in Redis by each busd"
expect_ok "$BUSCTL" nodes
expect_output "$NODE_ID"

step 2 "busctl find-socket: which node holds the client's socket"
expect_ok "$BUSCTL" find-socket "$SID"
expect_output "$NODE_ID"

step 3 "busctl emit --wait-ack to the socket: busd adds an ack id, the client acks"
expect_ok "$BUSCTL" emit --to "$SID" --wait-ack --timeout 5s greeting '{"text":"hello"}'
expect_output '"event":"greeting"'

NEWS_ID="demo-news-$(date +%s)-$$"
step 4 "busctl emit to the room, under a message id of our choosing"
expect_ok "$BUSCTL" emit --to "$ROOM" --id "$NEWS_ID" --wait-ack --timeout 5s news '{"headline":"socketbus demo"}'
expect_output "1/1 delivered"

step 5 "busctl acks: the delivery records kept in Redis for that message id"
expect_ok "$BUSCTL" acks "$NEWS_ID"
expect_output "dispatched"

step 6 "The client's side: frames received (<-) and sent (->) since it joined"
echo "42<id>[...] is an event with the ack id busd spliced in; 43<id>[...] is the"
echo "client's answer: the connector passed it to busd, which recorded it above."
tail -n +"$((READY_LINES + 1))" "$TMP/client.log" | sed 's/^client: /  /'
grep -q '^client: -> 43[0-9]*\[{"ok":true,"event":"news"}\]' "$TMP/client.log" ||
    fail "the client's log has no ack for 'news'"

next=7
if ((has_status)); then
    step $next "busctl status: the local busd's own view, from its HTTP port"
    expect_ok "$BUSCTL" status --http "$HTTP_ADDR"
    next=$((next + 1))
fi

step $next "busctl inspect: decode a message captured from Redis"
# Captured on that channel after emitter.to('roomA').emit('bin', {name: 'file.bin', data: Buffer}).
echo "A Redis emitter's to('roomA').emit('bin', {name, data: Buffer}), as it was"
echo "published; busctl shows what it means and the frames a client receives."
expect_ok "$BUSCTL" inspect --channel 'socket.io#/#roomA#' --hex \
    93a7656d697474657283a47479706502a46461746192a362696e82a46e616d65a866696c652e62696ea464617461c405000102feffa36e7370a12f83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490
expect_output "clientFrames"

STEP="stopping"
echo
stopping="the client, the node and busd"
[[ -n "${PIDS[redis]:-}" ]] && stopping="the client, the node, busd and redis-server"
echo "Every step worked ($((SECONDS - STARTED))s). Stopping $stopping."
