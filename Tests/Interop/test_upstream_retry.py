"""run.py's retry of upstream tests that timed out, on a real mocha run: a test
that timed out once is run again alone and counts by its second result; one
that times out twice, or fails otherwise, still fails."""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "upstream"))
from retry import one_per_title, with_retries  # noqa: E402
from run import NODE_MODULES, mocha  # noqa: E402

SUITE = """
const fs = require("node:fs");
describe("retry check", () => {
  it("times out once, then passes", function (done) {
    if (fs.existsSync(process.env.MARKER)) return done();
    fs.writeFileSync(process.env.MARKER, "");
  });
  it("fails an assertion", () => { throw new Error("a real failure"); });
  it("times out every time", function (done) {});
  it("calls done twice once, then passes", function (done) {
    if (fs.existsSync(process.env.MARKER + "-twice")) return done();
    fs.writeFileSync(process.env.MARKER + "-twice", "");
    done();
    setImmediate(() => done());
  });
  it("passes [a title with (regex) characters.*]", () => {});
});
"""


@pytest.mark.skipif(shutil.which("mocha") is None, reason="no mocha (Debian's mocha package)")
def test_upstream_timeouts_are_retried_once_and_real_failures_still_fail(tmp_path):
    (tmp_path / "suite.js").write_text(SUITE)
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES), "MARKER": str(tmp_path / "ran-once")}
    runs = []

    def run(only=None):
        env["INTEROP_RESULTS"] = str(tmp_path / f"results-{len(runs)}.jsonl")
        entries = mocha(str(tmp_path / "suite.js"), env, tmp_path, tmp_path / f"mocha-{len(runs)}.log",
                        only=only, timeout_ms=500)
        runs.append(entries)
        return entries

    entries, retried = with_retries(one_per_title(run()), lambda titles: run(only=titles))
    results = {e["title"].removeprefix("retry check "): e for e in entries}

    assert retried == ["retry check times out once, then passes", "retry check times out every time",
                       "retry check calls done twice once, then passes"]
    # The second run ran those two and nothing else.
    assert sorted(e["title"] for e in runs[1]) == sorted(retried)
    assert results["times out once, then passes"]["state"] == "passed"
    assert results["times out once, then passes"]["retried"]
    assert results["times out once, then passes"]["first_error"].startswith("Timeout of 500ms exceeded")
    assert results["times out every time"]["state"] == "failed"
    assert results["times out every time"]["retried"]
    assert results["fails an assertion"]["state"] == "failed"
    assert results["fails an assertion"]["error"] == "a real failure"
    assert "retried" not in results["fails an assertion"]
    assert results["calls done twice once, then passes"]["state"] == "passed"
    assert results["calls done twice once, then passes"]["first_error"].startswith("done() called multiple times")
    assert results["passes [a title with (regex) characters.*]"]["state"] == "passed"
    assert len(runs) == 2
