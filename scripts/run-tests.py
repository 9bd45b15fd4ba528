#!/usr/bin/env python3
"""make test: runs every suite, even after one fails, and ends with one line
counting all of them:

    make test: N passed, N failed, N skipped

Each suite's output goes to the console as before and to $LOG_DIR/<log>.
The exit status is 1 when anything failed. A suite whose runner printed no
count (a crash, a build error) counts as one failure; so does a runner that
exited non-zero with no failure among its counts.

The Makefile passes SWIFT, BUILD_DIR, SWIFT_FLAGS, TEST_FLAGS and LOG_DIR.
To add a suite, add a Suite to suites() below, with the parser of its
runner's output (suite_counts.py: parse_pytest, parse_node, ...;
parse_one_check for a runner that prints no count, e.g. a bounded fuzz run).
"""

import os
import shlex
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import suite_counts as counts

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Suite:
    name: str
    command: list
    log: str
    parse: object
    environment: dict = field(default_factory=dict)
    # Show only the last lines on the console (the whole output is in the log).
    console_tail: int = 0
    # A suite still running after this is killed with every process it
    # started (a leaked child holding its output open would hang CI until
    # CI's own limit); it then counts as failed.
    timeout_seconds: int = 1200


def suites(setting):
    swift = [setting("SWIFT", "swift")]
    build_dir = setting("BUILD_DIR", ".build")
    spm = ["--scratch-path", build_dir] + shlex.split(setting("SWIFT_FLAGS", ""))
    # The real peers: Python tools from .venv, Debian's node modules
    # (node-socket.io-parser lives under /usr/share/nodejs), busd and busctl.
    peers = {
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "NODE_PATH": ":".join(p for p in ("/usr/share/nodejs", os.environ.get("NODE_PATH", "")) if p),
        "SOCKETBUS_BIN_DIR": str((ROOT / build_dir / "debug").resolve()),
    }
    pytest = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    return [
        Suite("build", swift + ["build"] + spm + ["--build-tests"], "build-tests.log", counts.parse_step),
        Suite("deploy", ["deploy/validate.sh"], "deploy.log", counts.parse_validate, peers),
        Suite(
            "swift",
            swift + ["test"] + spm + shlex.split(setting("TEST_FLAGS", "")),
            "test.log",
            counts.parse_swift,
            peers,
        ),
        Suite(
            "node connector",
            ["node", "--test", "clients/node/test/"],
            "node-connector.log",
            counts.parse_node,
            peers,
            console_tail=9,
        ),
        Suite("python connector", pytest + ["clients/python/tests"], "python-connector.log", counts.parse_pytest, peers),
        # The connector against the declared python-socketio floor and 5.14 (no is_sid_room there).
        *[
            Suite(
                f"python connector, python-socketio {version}",
                ["scripts/python-socketio-versions.sh", version],
                f"python-connector-{version}.log",
                counts.parse_pytest,
                peers,
            )
            for version in ("5.12.0", "5.14.0")
        ],
        Suite("end-to-end", pytest + ["Tests/EndToEnd"], "e2e.log", counts.parse_pytest, peers),
        Suite(
            "chaos",
            pytest + ["Tests/Chaos"],
            "chaos.log",
            counts.parse_pytest,
            {**peers, "CHAOS_OUTAGES": os.environ.get("CHAOS_OUTAGES", "5")},
        ),
        # A real mixed cluster: stock socket.io 4.8.1 + @socket.io/redis-adapter 8.3.0 servers,
        # socketbus servers, a python-socketio server, redis-emitter 5.1.0; every adapter
        # call compared with an all-stock cluster (Tests/Interop/README.md).
        Suite("interop", pytest + ["Tests/Interop"], "interop.log", counts.parse_pytest, peers, timeout_seconds=900),
        # Upstream's own suites (redis-adapter 8.3.0, socket.io 4.8.1, socket.io-adapter 2.5.5)
        # against socketbus: their sources are not in this tree; without
        # SOCKETBUS_UPSTREAM_SUITES the suite reports itself skipped, with the reason.
        Suite(
            "interop upstream suites",
            ["python", "Tests/Interop/upstream/run.py"],
            "interop-upstream.log",
            counts.parse_upstream,
            {**peers, **({"SOCKETBUS_UPSTREAM_SUITES": os.environ["SOCKETBUS_UPSTREAM_SUITES"]}
                         if os.environ.get("SOCKETBUS_UPSTREAM_SUITES") else {})},
            timeout_seconds=900,
        ),
        # 20 s of each libFuzzer target (Fuzz/); `make fuzz` runs them longer.
        Suite("fuzz", ["scripts/fuzz.sh", "20"], "fuzz.log", counts.parse_fuzz, {**peers, "SWIFT": swift[0]}),
        # make dist (a release build: minutes on a fresh clone), then Tests/Dist on the tarball and
        # the .deb it made (docs/install.md): one build, reused by every test.
        Suite(
            "dist",
            ["make", "--no-print-directory", "dist-check", f"SWIFT={swift[0]}", f"BUILD_DIR={build_dir}",
             f"SWIFT_FLAGS={setting('SWIFT_FLAGS', '')}"],
            "dist.log",
            counts.parse_pytest,
            peers,
            timeout_seconds=2400,
        ),
        Suite("test summary parser", pytest + ["scripts/tests"], "summary-parser.log", counts.parse_pytest, peers),
    ]


def run(suite, log_dir):
    """Runs one suite, its output to the console and its log; returns (output, exit code)."""
    environment = {**os.environ, **suite.environment}
    print(f"make test: {suite.name}: {shlex.join(suite.command)}", flush=True)
    tail = deque(maxlen=suite.console_tail or None)
    output = []
    with open(log_dir / suite.log, "w", encoding="utf-8", errors="replace") as log:
        try:
            process = subprocess.Popen(
                suite.command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors="replace", bufsize=1, start_new_session=True,
            )
        except OSError as error:
            message = f"cannot run {suite.command[0]}: {error}\n"
            log.write(message)
            print(message, end="", flush=True)
            return message, 127
        timed_out = threading.Event()

        def kill_the_suite():
            timed_out.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        watchdog = threading.Timer(suite.timeout_seconds, kill_the_suite)
        watchdog.daemon = True
        watchdog.start()
        for line in process.stdout:
            log.write(line)
            output.append(line)
            if suite.console_tail:
                tail.append(line)
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        code = process.wait()
        watchdog.cancel()
        # What the suite left running goes with it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if timed_out.is_set():
            message = f"make test: {suite.name}: killed after {suite.timeout_seconds} s\n"
            log.write(message)
            tail.append(message) if suite.console_tail else sys.stdout.write(message)
            code = code or 124
    sys.stdout.write("".join(tail))
    return "".join(output), code


def main():
    setting = lambda name, default: os.environ.get(name) or default
    log_dir = ROOT / setting("LOG_DIR", ".build/logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"make test: every suite runs; output also kept in {log_dir}", flush=True)
    total = counts.Counts()
    lines = []
    for suite in suites(setting):
        output, code = run(suite, log_dir)
        parsed = suite.parse(output, code)
        settled = counts.settle(parsed, code)
        note = "" if parsed is not None else " (no count in its output)"
        lines.append(f"  {suite.name}: {settled}, exit {code}{note}; log {suite.log}")
        total = total + settled
    print("make test: per suite:")
    print("\n".join(lines), flush=True)
    # On a failure make adds its own "Error" line after this one; the exit
    # status says failed either way.
    print(f"make test: {total}", flush=True)
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main())
