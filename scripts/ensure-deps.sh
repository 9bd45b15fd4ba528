#!/usr/bin/env bash
# Installs what socketbus needs to build and test, and only what is missing.
#
#   scripts/ensure-deps.sh            Debian packages for building and running
#   scripts/ensure-deps.sh --demo     ... plus .venv with what `make demo` runs:
#                                     python-socketio, python-engineio, aiohttp
#   scripts/ensure-deps.sh --python   ... plus the test tools: node-socket.io-parser
#                                     and .venv with scripts/requirements-test.txt
#   scripts/ensure-deps.sh --dist     ... plus what `make dist` runs: dpkg-shlibdeps,
#                                     dpkg-deb, readelf and strip
#
# Idempotent and silent when everything is already there; prints what it
# installs otherwise. Safe to run before every build. --demo takes its pins
# from scripts/requirements-test.txt, so the demo and the tests agree.
set -euo pipefail

cd "$(dirname "$0")/.."

APT_PACKAGES=(libhiredis-dev libmsgpack-dev libssl-dev redis-server redis-tools libcurl4-openssl-dev pkg-config)
# nginx: deploy/validate.sh checks deploy/nginx with `nginx -t`.
# Tests/Interop: what the stock socket.io 4.8.1 servers load (../shared/stock-socketio/README.md),
# and tsc, mocha, expect.js, supertest for upstream's own suites (Tests/Interop/upstream).
TEST_APT_PACKAGES=(node-socket.io-parser openssl nginx tmux
    node-ws node-redis node-debug node-cookie node-cors node-base64id node-accepts node-vary
    node-typescript mocha node-expect.js node-supertest node-superagent
    # Tests/Dist: the man pages rendered, the completion scripts loaded in each shell.
    man-db groff-base zsh fish)
# make dist (scripts/dist.sh): the .deb's Depends and the binaries' checks.
# lintian: Tests/Dist checks the .deb with it (make dist-check).
DIST_APT_PACKAGES=(dpkg-dev binutils)
DIST_TEST_APT_PACKAGES=(lintian)

PYTHON=${PYTHON:-python3}
VENV=.venv
REQUIREMENTS=scripts/requirements-test.txt
STAMP="$VENV/.requirements.stamp"

# The demo's share of the test tools (and their pins in $REQUIREMENTS).
DEMO_PACKAGES=(python-socketio python-engineio aiohttp)
DEMO_STAMP="$VENV/.demo.stamp"

want_python=0
want_demo=0
want_dist=0
for arg in "$@"; do
    case "$arg" in
        --python) want_python=1 ;;
        --demo) want_demo=1 ;;
        --dist) want_dist=1 ;;
        -h | --help)
            sed -n '2,14s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        *)
            echo "ensure-deps: unknown argument: $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

log() { echo "ensure-deps: $*"; }
die() {
    echo "ensure-deps: error: $*" >&2
    exit 1
}

is_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

# --- Debian packages -------------------------------------------------------

command -v dpkg >/dev/null 2>&1 || die "dpkg not found: this script supports Debian and its derivatives only"

wanted=("${APT_PACKAGES[@]}")
if ((want_python)); then
    wanted+=("${TEST_APT_PACKAGES[@]}")
    # clients/node/test/package.test.js runs `npm pack`: NodeSource's nodejs
    # brings npm, Debian's does not (and its npm package conflicts with NodeSource's).
    command -v npm >/dev/null 2>&1 || wanted+=(npm)
fi
if ((want_python || want_dist)); then
    wanted+=("${DIST_APT_PACKAGES[@]}")
fi
if ((want_python)); then
    wanted+=("${DIST_TEST_APT_PACKAGES[@]}")
fi
if ((want_python || want_demo)); then
    # Debian's own python3 needs python3-venv for `python3 -m venv`.
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        wanted+=(python3 python3-venv)
    elif ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        wanted+=(python3-venv)
    fi
fi

missing=()
for pkg in "${wanted[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]})); then
    if ((EUID == 0)); then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        die "missing Debian packages: ${missing[*]}
  Not running as root and sudo is not installed. Install them as root with:
    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq ||
        die "apt-get update failed"
    "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed for: ${missing[*]}"
fi

# --- Python tools (.venv) ---------------------------------------------------

full_done=0
if ((want_python || want_demo)); then
    [[ -f "$REQUIREMENTS" ]] || die "$REQUIREMENTS not found"
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"

    if ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
        log "creating $VENV with $("$PYTHON" --version 2>&1)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV" || die "could not create $VENV"
        rm -f "$STAMP" "$DEMO_STAMP"
    fi

    # The stamp records the requirements file and the venv's interpreter, so
    # a changed pin (or a rebuilt venv) triggers a reinstall and nothing else does.
    stamp_now="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) $("$VENV/bin/python" --version 2>&1)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$stamp_now" ]]; then
        full_done=1
    fi
fi

# The demo's packages alone, unless the full set is (or is about to be) there.
if ((want_demo && !want_python && !full_done)); then
    demo_pins=()
    for pkg in "${DEMO_PACKAGES[@]}"; do
        pin=$(grep -E "^${pkg}==" "$REQUIREMENTS") || die "no pin for $pkg in $REQUIREMENTS"
        demo_pins+=("$pin")
    done
    demo_stamp_now="${demo_pins[*]} $("$VENV/bin/python" --version 2>&1)"
    if [[ ! -f "$DEMO_STAMP" || "$(cat "$DEMO_STAMP")" != "$demo_stamp_now" ]]; then
        log "installing the demo's Python packages into $VENV: ${demo_pins[*]}"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${demo_pins[@]}" ||
            die "pip install ${demo_pins[*]} failed"
        printf '%s\n' "$demo_stamp_now" >"$DEMO_STAMP"
    fi
fi

if ((want_python && !full_done)); then
    log "installing Python test tools from $REQUIREMENTS into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" ||
        die "pip install -r $REQUIREMENTS failed"
    printf '%s\n' "$stamp_now" >"$STAMP"
fi
