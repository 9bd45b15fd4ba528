#!/usr/bin/env bash
# Runs the Python connector's tests against a python-socketio other than the
# pinned one, in a venv of its own (.venv-compat/python-socketio-VERSION, kept
# between runs):
#
#   scripts/python-socketio-versions.sh VERSION
#
# make test runs it for the declared floor (5.12.0: 5.11 and older fail the
# tests) and for 5.14.0 (the last 5.x without BaseManager.is_sid_room). The
# other test tools keep the pins of scripts/requirements-test.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: scripts/python-socketio-versions.sh VERSION}
PYTHON=${PYTHON:-python3}
venv=.venv-compat/python-socketio-$version
stamp=$venv/.installed
requirements=$(grep -v -E '^(python-socketio|#|$)' scripts/requirements-test.txt)

if [[ ! -f $stamp || $(cat "$stamp") != "$requirements" ]]; then
    echo "python-socketio-versions: creating $venv"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q "python-socketio==$version" $requirements
    printf '%s' "$requirements" >"$stamp"
fi
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("python-socketio"))')
echo "python-socketio-versions: clients/python/tests with python-socketio $installed"
PATH="$PWD/$venv/bin:$PATH" exec python -m pytest -q -p no:cacheprovider clients/python/tests
