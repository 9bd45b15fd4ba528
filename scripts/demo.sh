#!/usr/bin/env bash
# The main job, for now: decode one real Socket.IO Redis adapter message with
# `busctl inspect`. Run through `make demo`, which installs and builds first.
#
# BUSCTL overrides the binary. Ours is always called by path: /usr/bin/busctl
# is systemd's tool of the same name.
set -euo pipefail

cd "$(dirname "$0")/.."

BUSCTL=${BUSCTL:-.build/release/busctl}
if [[ ! -x "$BUSCTL" ]]; then
    echo "demo: $BUSCTL not found; build it with: make demo" >&2
    exit 1
fi

CHANNEL='socket.io#/#roomA#'
# Captured from Redis: emitter.to('roomA').emit('bin', {name: 'file.bin', data: Buffer})
HEX=93a7656d697474657283a47479706502a46461746192a362696e82a46e616d65a866696c652e62696ea464617461c405000102feffa36e7370a12f83a5726f6f6d7391a5726f6f6d41a5666c61677380a665786365707490

# Shows the command (quoted where the shell needs it), then runs it.
run() {
    local shown=() arg
    for arg in "$@"; do
        if [[ "$arg" =~ ^[A-Za-z0-9_./=:-]+$ ]]; then shown+=("$arg"); else shown+=("'$arg'"); fi
    done
    echo
    echo "\$ ${shown[*]}"
    "$@"
}

cat <<EOF
socketbus demo: busctl inspect

A Socket.IO server with the Redis adapter publishes every broadcast to a Redis
channel as a msgpack array [emitter uid, packet, options]. The message below was
captured on channel '$CHANNEL' after

    emitter.to('roomA').emit('bin', { name: 'file.bin', data: Buffer })

busctl decodes it: the packet (type, namespace, event name, arguments with the
binary data) and the broadcast options (rooms, except, flags). It runs three
times: plain, with --ack-id 9007199254740000 (just under 2^53, the largest id
JavaScript holds exactly), and with --json.
EOF

run "$BUSCTL" inspect --channel "$CHANNEL" --hex "$HEX"
run "$BUSCTL" inspect --channel "$CHANNEL" --hex "$HEX" --ack-id 9007199254740000
run "$BUSCTL" inspect --channel "$CHANNEL" --hex "$HEX" --json
