"""Reads the pass/fail/skip counts out of each test runner's output.

Used by scripts/run-tests.py (make test); tested on captured outputs in
scripts/tests/. Every parser takes the output and the exit status and returns Counts, or
None when the output holds no count at all (a crash, a build error): the
caller counts that as failed (settle).
"""

import re
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def __add__(self, other):
        return Counts(self.passed + other.passed, self.failed + other.failed, self.skipped + other.skipped)

    def __str__(self):
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def lines_of(text):
    return ANSI.sub("", text).splitlines()


# --- swift test: XCTest, then swift-testing -----------------------------------

SWIFT_TESTING_RUN = re.compile(r"Test run with (\d+) tests?\b.* (passed|failed) after")
# "✘ Test name() failed after 0.1 seconds with 1 issue." (not the run line, not suites)
SWIFT_TESTING_FAILED = re.compile(r"^\S+ Test (?!run with ).+ failed after ")
SWIFT_TESTING_PASSED = re.compile(r"^\S+ Test (?!run with ).+ passed after ")
# "➜ Test name() skipped." or "... skipped: "reason""
SWIFT_TESTING_SKIPPED = re.compile(r"^\S+ Test (?!run with ).+? skipped(?:[.:]|$)")
XCTEST_EXECUTED = re.compile(r"^\s*Executed (\d+) tests?, with (?:(\d+) tests? skipped and )?(\d+) failures?")
XCTEST_FAILED_CASE = re.compile(r"^Test Case '.*' failed \(")


def parse_swift(text, exit_code=0):
    """`swift test`: the XCTest "Executed" total plus swift-testing's "Test run
    with N tests" line. When swift-testing never got to its run line (a
    crash), the tests it saw pass or fail are still counted, plus one failure."""
    lines = lines_of(text)
    total = None
    executed = [m for m in map(XCTEST_EXECUTED.match, lines) if m]
    if executed:
        # The last "Executed" line is the "All tests" total.
        last = executed[-1]
        skipped = int(last[2] or 0)
        failed = sum(1 for line in lines if XCTEST_FAILED_CASE.match(line))
        total = Counts(int(last[1]) - skipped - failed, failed, skipped)
    failed = sum(1 for line in lines if SWIFT_TESTING_FAILED.match(line))
    skipped = sum(1 for line in lines if SWIFT_TESTING_SKIPPED.match(line))
    runs = [m for m in map(SWIFT_TESTING_RUN.search, lines) if m]
    if runs:
        testing = Counts(int(runs[-1][1]) - failed - skipped, failed, skipped)
    elif any(SWIFT_TESTING_PASSED.match(line) or SWIFT_TESTING_FAILED.match(line) for line in lines):
        passed = sum(1 for line in lines if SWIFT_TESTING_PASSED.match(line))
        testing = Counts(passed, failed + 1, skipped)
    else:
        testing = None
    if total is None:
        return testing
    return total + testing if testing else total


# --- node --test (TAP when piped; the spec reporter's "ℹ" lines too) ------------

NODE_COUNT = re.compile(r"^(?:#|ℹ) (pass|fail|cancelled|skipped|todo) (\d+)\s*$")


def parse_node(text, exit_code=0):
    found = {}
    for line in lines_of(text):
        m = NODE_COUNT.match(line)
        if m:
            found[m[1]] = int(m[2])
    if not found:
        return None
    return Counts(
        found.get("pass", 0),
        found.get("fail", 0) + found.get("cancelled", 0),
        found.get("skipped", 0) + found.get("todo", 0),
    )


# --- pytest -q ----------------------------------------------------------------

PYTEST_SUMMARY = re.compile(r"^=*\s*(.*?) in [\d.]+s\b")
PYTEST_PAIR = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?|rerun)\b")


def parse_pytest(text, exit_code=0):
    """The last summary line, "3 failed, 40 passed, 2 skipped in 9.1s";
    errors count as failed, xfailed as skipped, xpassed as passed."""
    for line in reversed(lines_of(text)):
        m = PYTEST_SUMMARY.match(line)
        if not m:
            continue
        found = {}
        for number, word in PYTEST_PAIR.findall(m[1]):
            found[word.rstrip("s") if word.startswith("error") else word] = int(number)
        if not any(k in found for k in ("passed", "failed", "skipped", "error", "xfailed", "xpassed")):
            return None  # "no tests ran"
        return Counts(
            found.get("passed", 0) + found.get("xpassed", 0),
            found.get("failed", 0) + found.get("error", 0),
            found.get("skipped", 0) + found.get("xfailed", 0),
        )
    return None


# --- deploy/validate.sh -------------------------------------------------------

VALIDATE_SUMMARY = re.compile(r"^deploy: (\d+) passed, (\d+) failed, (\d+) skipped\s*$")


def parse_validate(text, exit_code=0):
    for line in reversed(lines_of(text)):
        m = VALIDATE_SUMMARY.match(line)
        if m:
            return Counts(int(m[1]), int(m[2]), int(m[3]))
    return None


UPSTREAM_SUMMARY = re.compile(r"^upstream: (\d+) passed, (\d+) failed, (\d+) skipped\b")


def parse_upstream(text, exit_code=0):
    """Tests/Interop/upstream/run.py: its last summary line; tests listed as
    not applicable count as skipped, and a suite that cannot run here
    (no upstream sources) as one skipped."""
    for line in reversed(lines_of(text)):
        m = UPSTREAM_SUMMARY.match(line)
        if m:
            return Counts(int(m[1]), int(m[2]), int(m[3]))
    return None


FUZZ_SUMMARY = re.compile(r"^fuzz: (\d+) passed, (\d+) failed\s*$")


def parse_fuzz(text, exit_code=0):
    """scripts/fuzz.sh: one test per fuzz target."""
    for line in reversed(lines_of(text)):
        m = FUZZ_SUMMARY.match(line)
        if m:
            return Counts(int(m[1]), int(m[2]), 0)
    return None


def parse_one_check(text, exit_code=0):
    """A runner that prints no counts (a bounded fuzz run, a script): the
    whole run is one test, passed when it exits with 0."""
    return Counts(1, 0, 0) if exit_code == 0 else Counts(0, 1, 0)


def parse_step(text, exit_code=0):
    """A build step counts no tests: only its failure counts (as one)."""
    return Counts()


def settle(counts, exit_code):
    """What a suite adds to the total: no count means one failure; a runner
    that failed (or crashed after printing its counts) without a failure
    in them adds one."""
    if counts is None:
        return Counts(0, 1, 0)
    if exit_code != 0 and counts.failed == 0:
        return counts + Counts(0, 1, 0)
    return counts
