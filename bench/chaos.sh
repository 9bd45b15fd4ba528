#!/usr/bin/env bash
# Chaos bench: kill -9 and restart redis-server under load while busd runs
# (Tests/Chaos/test_chaos.py::test_redis_kill_restart_cycles), printing the
# per-outage table as it goes and the summary at the end.
#
#   bench/chaos.sh [OUTAGES] [extra pytest arguments...]
#
# OUTAGES defaults to $CHAOS_OUTAGES, else 20 (CI runs 5 through `make test`).
# Binaries: $SOCKETBUS_BIN_DIR, else .build/debug; CHAOS_BUILD=release picks
# .build/release when it holds busd. Python: .venv (make deps-test creates it).
set -euo pipefail

cd "$(dirname "$0")/.."

outages=${1:-${CHAOS_OUTAGES:-20}}
[[ $# -gt 0 ]] && shift
if ! [[ $outages =~ ^[1-9][0-9]*$ ]]; then
    echo "chaos: OUTAGES must be a positive number, not '$outages'" >&2
    exit 2
fi

if [[ -z ${SOCKETBUS_BIN_DIR:-} ]]; then
    SOCKETBUS_BIN_DIR=$PWD/.build/debug
    if [[ ${CHAOS_BUILD:-debug} == release ]]; then
        if [[ -x .build/release/busd ]]; then
            SOCKETBUS_BIN_DIR=$PWD/.build/release
        else
            echo "chaos: CHAOS_BUILD=release but .build/release/busd is missing; using .build/debug" >&2
        fi
    fi
fi
if [[ ! -x $SOCKETBUS_BIN_DIR/busd ]]; then
    echo "chaos: no busd in $SOCKETBUS_BIN_DIR (build it first: make build, or make release with CHAOS_BUILD=release)" >&2
    exit 1
fi

PYTHON=.venv/bin/python
if [[ ! -x $PYTHON ]]; then
    echo "chaos: $PYTHON not found; create it with: make deps-test" >&2
    exit 1
fi

# Each outage takes about 4 s (2.5 s down, recovery, alerts, 1 s steady);
# the test prints one table row per outage as it ends, and this script a
# line at the start and the end, so a long run is never silent.
echo "chaos: $outages outages (about $((outages * 4 + 10)) s), busd from $SOCKETBUS_BIN_DIR" >&2
export SOCKETBUS_BIN_DIR CHAOS_OUTAGES=$outages
export PATH="$PWD/.venv/bin:$PATH"
started=$SECONDS
rc=0
"$PYTHON" -m pytest -s -q -p no:cacheprovider \
    "Tests/Chaos/test_chaos.py::test_redis_kill_restart_cycles" "$@" || rc=$?
echo "chaos: done in $((SECONDS - started)) s (exit $rc)" >&2
exit $rc
