"""Upstream's tests now and then time out under load, in the all-stock setting
as well (socket.io's "messaging many broadcasts to rooms" did, with no
socketbus in it). Rather than lengthen every time-out, a test that timed out
is run once more, alone and on fresh peers, in every setting alike; its second
result is the one counted, and it is reported as retried. So is a test whose
callback ran twice ("done() called multiple times"): socket.io's "disconnectSockets
makes all socket instances in a room disconnect" does so now and then in the
all-stock setting, from a disconnect its teardown causes after the test ended.
Any other failure is final: a test that fails an assertion is never run again,
and one that fails the same way twice fails."""

import re

# mocha's own words for a test that did not end within --timeout, and for one
# whose callback was called again after it ended.
TIMEOUT = re.compile(r"^Timeout of \d+ms exceeded")
DONE_TWICE = re.compile(r"^done\(\) called multiple times")


def one_per_title(entries):
    """One entry per test: a test reported twice (e.g. done() called again after
    its failure) is failed if either report is."""
    by_title = {}
    for entry in entries:
        if entry["title"] not in by_title or entry["state"] == "failed":
            by_title[entry["title"]] = entry
    return list(by_title.values())


def timed_out(entry):
    """A test (not a hook: its failure stands for the tests under it) that
    failed by time-out or by its callback running twice: run once more."""
    error = entry.get("error", "")
    return (entry["state"] == "failed" and bool(TIMEOUT.match(error) or DONE_TWICE.match(error))
            and "hook" not in entry["title"])


def grep_exactly(titles):
    """A mocha --grep pattern (a JavaScript RegExp) that matches these full titles and nothing else."""
    return "^(?:" + "|".join(re.sub(r"[\\^$.*+?()[\]{}|/]", r"\\\g<0>", t) for t in titles) + ")$"


def with_retries(entries, run_again):
    """`entries`: one per test. `run_again(titles)` runs those tests once more and
    returns what they reported. Returns the entries with each timed-out test's
    second result in its place (marked `retried`, with `first_error`), and the
    titles retried."""
    again = [e["title"] for e in entries if timed_out(e)]
    if not again:
        return entries, []
    second = {e["title"]: e for e in one_per_title(run_again(again))}
    merged = []
    for entry in entries:
        if entry["title"] not in again:
            merged.append(entry)
            continue
        result = second.get(entry["title"]) or {
            "title": entry["title"], "state": "failed", "error": "timed out, and did not run when retried"}
        merged.append({**result, "retried": True, "first_error": entry.get("error", "")})
    return merged, again
