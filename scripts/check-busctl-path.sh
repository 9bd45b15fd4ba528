#!/usr/bin/env bash
# After `make install`: says whether `busctl` finds socketbus's busctl before
# systemd's (/usr/bin/busctl, the D-Bus tool) on this PATH, on the login
# PATHs of /etc/login.defs and in sudo's secure_path. Notes only; exit 0.
#
#   scripts/check-busctl-path.sh /usr/local/bin/busctl
set -uo pipefail

ours=${1:?usage: $0 INSTALLED-BUSCTL}
ours_dir=$(dirname "$ours")
ours_real=$(readlink -f "$ours" 2>/dev/null || echo "$ours")

# first_busctl PATH: the first executable busctl on PATH, or nothing.
first_busctl() {
    local dir
    IFS=: read -r -a dirs <<<"$1"
    for dir in "${dirs[@]}"; do
        [[ -x ${dir:-.}/busctl ]] && { echo "${dir:-.}/busctl"; return; }
    done
}
# check NAME PATH: a note when busctl on PATH is not ours.
check() {
    local first
    first=$(first_busctl "$2")
    if [[ -z $first ]]; then
        echo "busctl: $1: no busctl on it (PATH=$2): add $ours_dir"
    elif [[ $(readlink -f "$first") == "$ours_real" ]]; then
        echo "busctl: $1: finds socketbus's busctl ($first)"
    else
        echo "busctl: NOTE: $1 finds $first before $ours: 'busctl nodes' would run that one"
        echo "        (systemd's says 'Unknown command verb nodes.'); put $ours_dir first, or call $ours."
    fi
}

check "this PATH" "$PATH"
if [[ -r /etc/login.defs ]]; then
    for key in ENV_PATH ENV_SUPATH; do
        value=$(sed -n "s/^$key[[:space:]]*PATH=//p" /etc/login.defs)
        [[ -n $value ]] && check "login PATH ($key in /etc/login.defs)" "$value"
    done
fi
sudoers=${SUDOERS:-/etc/sudoers} # SUDOERS: another file, for tests
if [[ -r $sudoers ]]; then
    value=$(cat "$sudoers" "$sudoers.d"/* 2>/dev/null | sed -n 's/^Defaults[[:space:]]*secure_path[[:space:]]*=[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}.*/\1/p' | tail -n 1)
    [[ -n $value ]] && check "sudo (secure_path in /etc/sudoers)" "$value"
fi
exit 0
