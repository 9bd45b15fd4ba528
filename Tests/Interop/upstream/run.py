#!/usr/bin/env python3
"""Runs upstream's own test suites against socketbus (opt-in; make test runs
it and reports it skipped when the sources are not there):

  redis-adapter  @socket.io/redis-adapter 8.3.0 test/index.ts + test/specifics.ts,
                 three servers on one redis-server: all stock, socketbus as the
                 server the tests call (servers[0]), socketbus as another (servers[1])
  adapter        socket.io-adapter 2.5.5 test/index.ts: the in-memory adapter's
                 unit tests, run on stock socket.io-adapter and on the connector
  socket.io      socket.io 4.8.1's server tests (packages/socket.io/test/index.ts):
                 default adapter, then the connector (and its busd) as the adapter

This project never holds upstream code: the sources come from the folder
$SOCKETBUS_UPSTREAM_SUITES (Tests/Interop/README.md says how to lay it out),
are transpiled with Debian's tsc (node-typescript) into a temporary folder and
run with Debian's mocha and expect.js. Tests that cannot apply to socketbus
are listed, with the reason, in Tests/Interop/upstream-not-applicable.md;
they count as skipped. The last line is

    upstream: N passed, N failed, N skipped
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from interop_cluster import BIN, ROOT, free_port, port_open, stock_modules, wait_for  # noqa: E402

sys.path.insert(0, str(HERE))
from retry import grep_exactly, one_per_title, with_retries  # noqa: E402

NOT_APPLICABLE = HERE.parent / "upstream-not-applicable.md"
NODE_MODULES = Path("/usr/share/nodejs")
MOCHA_TIMEOUT_MS = "10000"

# suite -> (sources under $SOCKETBUS_UPSTREAM_SUITES, files needed, settings)
SUITES = {
    "redis-adapter": (
        "socket.io-redis-adapter/test",
        ["index.ts", "specifics.ts", "util.ts"],
        ["stock", "called", "other", "stock/specific", "called/specific", "other/specific"],
    ),
    "adapter": ("socket.io/packages/socket.io-adapter/test", ["index.ts"], ["stock", "connector"]),
    "socket.io": ("socket.io/packages/socket.io/test", ["index.ts", "support/util.ts"], ["stock", "connector"]),
}


def summary(passed, failed, skipped):
    print(f"upstream: {passed} passed, {failed} failed, {skipped} skipped", flush=True)


def skip_all(reason):
    print(f"upstream: SKIPPED: {reason}", flush=True)
    summary(0, 0, 1)
    sys.exit(0)


def not_applicable():
    """{(suite, setting, title): reason} from the table; setting `*` is every
    socketbus setting, `all` every setting, the all-stock ones too (for what this
    machine lacks, never for a behaviour)."""
    table = {}
    for line in NOT_APPLICABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("suite", "") or set(cells[0]) <= {"-", " "}:
            continue
        suite, setting, title, reason = cells
        table[(suite, setting, title.strip("`"))] = reason
    return table


def reason_for(table, suite, setting, title):
    for key in ((suite, setting, title), (suite, setting.split("/")[0], title), (suite, "*", title),
                (suite, "all", title)):
        if key in table and not (key[1] == "*" and setting.startswith("stock")):
            return table[key]
    return None


def transpile(sources: Path, out: Path):
    """Every .ts under sources to CommonJS under out (types unchecked: upstream's
    type packages are not here, and tsc still emits)."""
    files = [str(p) for p in sources.rglob("*.ts") if not p.name.endswith(".d.ts") and "-d.ts" not in p.name]
    subprocess.run(
        ["tsc", "--outDir", str(out), "--rootDir", str(sources), "--module", "commonjs", "--target", "es2020",
         "--esModuleInterop", "--skipLibCheck", "--noResolve", "--experimentalDecorators", *files],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for p in sources.rglob("*"):  # fixtures and other non-TS files the tests read
        if p.is_file() and p.suffix != ".ts":
            target = out / p.relative_to(sources)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, target)


class Peers:
    """A fresh redis-server and, for the socketbus settings, one busd."""

    def __init__(self, workdir: Path, with_busd: bool):
        self.processes = []
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}"
        self.busd_socket = str(workdir / "busd.sock")
        log = open(workdir / "peers.log", "ab")
        self.processes.append(subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log, stderr=subprocess.STDOUT))
        wait_for(lambda: port_open(self.redis_port), what="redis-server")
        if with_busd:
            env = {k: v for k, v in os.environ.items() if not k.startswith("SOCKETBUS_")}
            self.processes.append(subprocess.Popen(
                [str(BIN / "busd"), "--redis", self.redis_url, "--node-id", "upstream", "--socket", self.busd_socket,
                 "--http", "off", "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT, env=env))
            wait_for(lambda: os.path.exists(self.busd_socket), what="busd's socket")

    def stop(self):
        for p in reversed(self.processes):
            p.kill()
            p.wait(timeout=10)


def shims(build: Path, suite: str):
    """Where upstream's tests import their own package ("..", "../lib"): ours
    points them at the stock build or at the connector (by INTEROP_UPSTREAM_MODE)."""
    if suite == "adapter":
        (build / "lib").mkdir(exist_ok=True)
        (build / "lib" / "index.js").write_text((HERE / "shim-socket.io-adapter.js").read_text())
    if suite == "socket.io":
        # close.ts runs fixtures/server-close.ts with node (upstream has ts-node): give it the JS.
        fixture = build / "test" / "fixtures" / "server-close.js"
        if fixture.exists():
            shutil.copy(fixture, fixture.with_suffix(".ts"))
        (build / "index.js").write_text((HERE / "shim-socket.io.js").read_text())
        (build / "package.json").write_text(json.dumps({"name": "socket.io-under-test", "main": "index.js"}))


def run_setting(suite, setting, build, workdir, modules, only=None):
    """Runs a setting's tests (with `only`, those full titles alone) on fresh peers."""
    peers = Peers(workdir, with_busd=not setting.startswith("stock"))
    tag = f"{suite}-{setting.replace('/', '-')}"
    results = workdir / f"{tag}.jsonl"
    env = {
        **os.environ,
        "NODE_PATH": f"{modules}:{NODE_MODULES}",
        "INTEROP_ROOT": str(ROOT),
        "INTEROP_UPSTREAM_BUILD": str(build),
        "INTEROP_UPSTREAM_MODE": setting.split("/")[0],
        "INTEROP_UPSTREAM_CHANNEL": "specific" if setting.endswith("/specific") else "shared",
        "INTEROP_REDIS_URL": peers.redis_url,
        "INTEROP_BUSD_SOCKET": peers.busd_socket,
        "INTEROP_RESULTS": str(results),
    }
    entry = {
        "redis-adapter": str(HERE / "redis-adapter-runner.js"),
        "adapter": str(build / "test" / "index.js"),
        "socket.io": str(HERE / "socket.io-runner.js"),
    }[suite]
    started = time.monotonic()
    try:
        entries = mocha(entry, env, build, workdir / f"{tag}.log", only=only)
    finally:
        peers.stop()
    return entries, time.monotonic() - started


def mocha(entry, env, cwd, log, only=None, timeout_ms=MOCHA_TIMEOUT_MS):
    """Runs mocha on `entry` (with `only`, just the tests of those full titles);
    returns what the results reporter wrote to env["INTEROP_RESULTS"]."""
    results = Path(env["INTEROP_RESULTS"])
    try:
        subprocess.run(
            ["mocha", "--reporter", str(HERE / "results-reporter.js"), "--timeout", str(timeout_ms), "--exit",
             *(["--grep", grep_exactly(only)] if only else []), entry],
            env=env, cwd=cwd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, timeout=600,
        )
    except subprocess.TimeoutExpired:
        pass
    return [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []


def main():
    sources_dir = os.environ.get("SOCKETBUS_UPSTREAM_SUITES")
    if not sources_dir and (ROOT.parent / "upstream-suites").is_dir():
        # Beside the project, as ../shared is: found without a variable.
        sources_dir = str(ROOT.parent / "upstream-suites")
    if not sources_dir:
        skip_all(
            "SOCKETBUS_UPSTREAM_SUITES is not set and there is no ../upstream-suites"
            " (the folder with upstream's test sources; Tests/Interop/README.md)"
        )
    sources_dir = Path(sources_dir)
    missing = [str(sources_dir / rel / f) for rel, files, _ in SUITES.values() for f in files
               if not (sources_dir / rel / f).exists()]
    if not sources_dir.is_dir():
        skip_all(f"{sources_dir} does not exist")
    tools = [t for t in ("tsc", "mocha", "node", "redis-server") if shutil.which(t) is None]
    tools += [f"node module {m}" for m in ("expect.js", "redis", "ws") if not (NODE_MODULES / m).exists()]
    if tools:
        skip_all(f"missing: {', '.join(tools)} (scripts/ensure-deps.sh --python installs them)")
    modules = stock_modules()
    if modules is None:
        skip_all("no stock socket.io 4.8.1 packages (Tests/Interop/README.md)")
    if not (BIN / "busd").exists():
        print(f"upstream: no busd at {BIN / 'busd'}: build first", flush=True)
        summary(0, 1, 0)
        sys.exit(1)

    wanted = [s for s in os.environ.get("INTEROP_UPSTREAM_ONLY", ",".join(SUITES)).split(",") if s]
    table = not_applicable()
    totals = [0, 0, 0]
    lines = []
    with tempfile.TemporaryDirectory(prefix="socketbus-upstream-") as temp:
        temp = Path(temp)
        for suite in wanted:
            rel, files, settings = SUITES[suite]
            if any(not (sources_dir / rel / f).exists() for f in files):
                print(f"upstream: {suite}: SKIPPED: its sources are not under {sources_dir / rel}", flush=True)
                totals[2] += 1
                continue
            build = temp / suite / "build"
            if suite == "socket.io":
                transpile(sources_dir / rel, build / "test")
            elif suite == "adapter":
                transpile(sources_dir / rel, build / "test")
            else:
                transpile(sources_dir / rel, build)
            shims(build, suite)
            # Every test the all-stock run saw; one that a socketbus run never
            # reached (a failed hook stops the tests after it) is failed.
            universe = []
            for setting in settings:
                workdir = temp / suite / setting.replace("/", "-")
                workdir.mkdir(parents=True)
                entries, seconds = run_setting(suite, setting, build, workdir, modules)

                def run_again(titles, suite=suite, setting=setting, build=build, workdir=workdir):
                    (workdir / "retry").mkdir()
                    return run_setting(suite, setting, build, workdir / "retry", modules, only=titles)[0]

                entries, retried = with_retries(one_per_title(entries), run_again)
                for entry in entries:
                    entry["title"] = re.sub(r"^redis-adapter 8\.3\.0 \[[^\]]+\] ", "", entry["title"])
                for entry in entries:
                    if entry.get("retried"):
                        print(f"  RETRIED {suite} [{setting}] {entry['title']}: timed out once "
                              f"({entry['first_error'][:60]}); then {entry['state']}")
                if setting == "stock":
                    universe = [e["title"] for e in entries if "hook" not in e["title"]]
                seen = {e["title"] for e in entries}
                entries += [{"title": t, "state": "failed", "error": "not run (a hook before it failed)"}
                            for t in universe if t not in seen]
                counts = {"passed": 0, "failed": 0, "not applicable": 0, "pending": 0, "hooks failed": 0}
                for entry in entries:
                    title = entry["title"]
                    state = entry["state"]
                    reason = reason_for(table, suite, setting, title)
                    if state == "failed" and reason:
                        counts["not applicable"] += 1
                        print(f"  N/A  {suite} [{setting}] {title}: {reason}")
                    elif state == "failed" and "hook" in title:
                        counts["hooks failed"] += 1
                        print(f"  FAIL {suite} [{setting}] {title}: {entry.get('error', '')}")
                    elif state == "failed":
                        counts["failed"] += 1
                        print(f"  FAIL {suite} [{setting}] {title}: {entry.get('error', '')}")
                    elif state == "pending":
                        counts["pending"] += 1
                    else:
                        counts["passed"] += 1
                        if reason and setting != "stock":
                            print(f"  NOTE {suite} [{setting}] {title}: passes, though listed as not applicable")
                if suite == "socket.io":
                    print(f"  N/A  {suite} [{setting}] test/v2-compatibility.ts, test/uws.ts: not run: they need "
                          "socket.io-client 2.x and uWebSockets.js, which Debian does not package")
                    counts["not applicable"] += 2
                if not entries:
                    counts["failed"] += 1
                    log = (workdir / f"{suite}-{setting.replace('/', '-')}.log").read_text(errors="replace")[-3000:]
                    print(f"  FAIL {suite} [{setting}]: no test ran\n{log}")
                ran = counts["passed"] + counts["failed"] + counts["not applicable"]
                line = (f"upstream: {suite} [{setting}]: {counts['passed']}/{ran} passed, {counts['failed']} failed, "
                        f"{counts['not applicable']} not applicable, {counts['pending']} skipped upstream, "
                        f"{counts['hooks failed']} hooks failed, {len(retried)} retried ({seconds:.0f} s)")
                print(line, flush=True)
                lines.append(line)
                totals[0] += counts["passed"]
                totals[1] += counts["failed"] + counts["hooks failed"]
                totals[2] += counts["not applicable"] + counts["pending"]
    print("\n".join(lines))
    summary(*totals)
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
